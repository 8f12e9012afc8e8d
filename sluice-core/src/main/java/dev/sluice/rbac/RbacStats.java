package dev.sluice.rbac;

import dev.sluice.api.stats.Counter;
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

  public RbacStats(StatsScope root, String prefix, String rulesPrefix, String shadowRulesPrefix) {
    String base = join(prefix, "rbac.");
    allowed = root.counter(base + rulesPrefix + "allowed");
    denied = root.counter(base + rulesPrefix + "denied");
    shadowAllowed = root.counter(base + shadowRulesPrefix + "shadow_allowed");
    shadowDenied = root.counter(base + shadowRulesPrefix + "shadow_denied");
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
}
