package dev.sluice.rbac;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code envoy.config.rbac.v3.RBAC}: policies in lexicographic order of their names, the
 * first whose permissions (any of them) and principals (any of them) both match decides. ALLOW
 * allows only a request some policy matches (so no policies deny everything), DENY allows only one
 * none matches, LOG allows all.
 */
public final class RbacEngine {
  private final RBAC.Action action;
  private final List<CompiledPolicy> policies;

  private record CompiledPolicy(String name, RbacMatcher[] permissions, RbacMatcher[] principals) {
    boolean matches(RbacInput in) {
      return any(permissions, in) && any(principals, in);
    }

    private static boolean any(RbacMatcher[] matchers, RbacInput in) {
      for (RbacMatcher m : matchers) {
        if (m.matches(in)) {
          return true;
        }
      }
      return false;
    }
  }

  /** The outcome: allowed or not, and the policy that matched (null when none did). */
  public record Decision(boolean allowed, @Nullable String policy) {}

  private RbacEngine(RBAC.Action action, List<CompiledPolicy> policies) {
    this.action = action;
    this.policies = policies;
  }

  /** @param path the field path of the RBAC message, e.g. {@code rules} */
  public static RbacEngine compile(RBAC rbac, String path) {
    if (rbac.getAction() == RBAC.Action.UNRECOGNIZED) {
      throw new ConfigException(path + ".action", "value must be one of the defined enum values");
    }
    if (!rbac.getAuditLoggingOptions().getLoggerConfigsList().isEmpty()) {
      throw new ConfigException(path + ".audit_logging_options.logger_configs", "RBAC audit loggers are not supported");
    }
    List<CompiledPolicy> out = new ArrayList<>();
    for (Map.Entry<String, Policy> e : new TreeMap<>(rbac.getPoliciesMap()).entrySet()) {
      String p = path + ".policies[" + e.getKey() + "]";
      Policy policy = e.getValue();
      if (policy.hasCondition() || policy.hasCheckedCondition()) {
        throw new ConfigException(p + (policy.hasCondition() ? ".condition" : ".checked_condition"), "CEL conditions are not supported");
      }
      out.add(new CompiledPolicy(e.getKey(),
          compileAll(policy.getPermissionsList(), p + ".permissions", true),
          compileAll(policy.getPrincipalsList(), p + ".principals", false)));
    }
    return new RbacEngine(rbac.getAction(), List.copyOf(out));
  }

  private static RbacMatcher[] compileAll(List<?> items, String path, boolean permissions) {
    if (items.isEmpty()) {
      throw new ConfigException(path, "value must contain at least 1 item(s)");
    }
    RbacMatcher[] out = new RbacMatcher[items.size()];
    for (int i = 0; i < out.length; i++) {
      Object item = items.get(i);
      String p = path + "[" + i + "]";
      out[i] = permissions
          ? RbacMatchers.permission((io.envoyproxy.envoy.config.rbac.v3.Permission) item, p)
          : RbacMatchers.principal((io.envoyproxy.envoy.config.rbac.v3.Principal) item, p);
    }
    return out;
  }

  public Decision evaluate(RbacInput in) {
    String matched = null;
    for (CompiledPolicy p : policies) {
      if (p.matches(in)) {
        matched = p.name();
        break;
      }
    }
    boolean allowed = switch (action) {
      case ALLOW -> matched != null;
      case DENY -> matched == null;
      case LOG, UNRECOGNIZED -> true;
    };
    return new Decision(allowed, matched);
  }

  public RBAC.Action action() {
    return action;
  }

  /** Envoy's response code details for a denial: {@code rbac_access_denied_matched_policy[<name>|none]}. */
  public static String deniedDetails(Decision d) {
    return "rbac_access_denied_matched_policy[" + (d.policy() == null ? "none" : d.policy()) + "]";
  }
}
