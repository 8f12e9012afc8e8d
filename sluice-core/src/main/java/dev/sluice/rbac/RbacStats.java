package dev.sluice.rbac;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.stats.Counter;
import dev.sluice.api.stream.StreamInfo;
import dev.sluice.api.stats.StatsScope;

/**
 * Envoy's RBAC filter counters: {@code <prefix>rbac.<rules_prefix>allowed|denied} and
 * {@code <prefix>rbac.<shadow_rules_prefix>shadow_allowed|shadow_denied}, where {@code prefix} is
 * the network filter's {@code stat_prefix} or the HTTP connection manager's {@code http.<stat_prefix>.}.
 */
public final class RbacStats {
  public final Counter allowed;
  public final Counter denied;
  public final Counter shadowAllowed;
  public final Counter shadowDenied;
  /** Envoy's dynamic metadata keys of the shadow decision, prefixed with {@code shadow_rules_stat_prefix}. */
  private final String shadowPolicyIdKey;
  private final String shadowResultKey;

  public RbacStats(StatsScope root, String prefix, String rulesPrefix, String shadowRulesPrefix) {
    String base = join(prefix, "rbac.");
    allowed = root.counter(base + rulesPrefix + "allowed");
    denied = root.counter(base + rulesPrefix + "denied");
    shadowAllowed = root.counter(base + shadowRulesPrefix + "shadow_allowed");
    shadowDenied = root.counter(base + shadowRulesPrefix + "shadow_denied");
    shadowPolicyIdKey = shadowRulesPrefix + "shadow_effective_policy_id";
    shadowResultKey = shadowRulesPrefix + "shadow_engine_result";
  }

  /** Envoy's statPrefixJoin: one '.' between the parts whether or not the prefix ends with one. */
  private static String join(String prefix, String name) {
    if (prefix.isEmpty()) {
      return name;
    }
    return prefix.endsWith(".") ? prefix + name : prefix + "." + name;
  }

  /** Counts an enforced decision. */
  public void count(RbacEngine.Decision d) {
    (d.allowed() ? allowed : denied).inc();
  }

  /** Counts a shadow decision. */
  public void countShadow(RbacEngine.Decision d) {
    (d.allowed() ? shadowAllowed : shadowDenied).inc();
  }

  /**
   * Records a shadow decision as Envoy's RBAC filters do, under {@code namespace} (the filter's
   * name): {@code <shadow_rules_stat_prefix>shadow_engine_result} ({@code allowed}/{@code denied})
   * and, when a policy matched, {@code <shadow_rules_stat_prefix>shadow_effective_policy_id}. Istio's
   * CUSTOM action reads the latter to decide whether ext_authz runs.
   */
  public void recordShadow(RbacEngine.Decision d, StreamInfo info, String namespace) {
    Struct.Builder fields = Struct.newBuilder();
    if (d.policy() != null) {
      fields.putFields(shadowPolicyIdKey, Value.newBuilder().setStringValue(d.policy()).build());
    }
    fields.putFields(shadowResultKey, d.allowed() ? ALLOWED : DENIED);
    info.setDynamicMetadata(namespace, fields.build());
  }

  private static final Value ALLOWED = Value.newBuilder().setStringValue("allowed").build();
  private static final Value DENIED = Value.newBuilder().setStringValue("denied").build();
}
