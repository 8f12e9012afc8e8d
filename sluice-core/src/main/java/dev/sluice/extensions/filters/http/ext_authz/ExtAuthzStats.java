package dev.sluice.extensions.filters.http.ext_authz;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;

/**
 * Envoy's ext_authz filter counters, {@code http.<hcm stat_prefix>.ext_authz.[<stat_prefix>.]}
 * {@code ok|denied|error|disabled|failure_mode_allowed}, resolved once per filter config.
 */
final class ExtAuthzStats {
  final Counter ok;
  final Counter denied;
  final Counter error;
  final Counter disabled;
  final Counter failureModeAllowed;

  /** @param hcmPrefix the connection manager's {@code http.<stat_prefix>.} */
  ExtAuthzStats(StatsScope root, String hcmPrefix, String statPrefix) {
    String base = hcmPrefix + "ext_authz." + (statPrefix.isEmpty() ? "" : statPrefix + ".");
    ok = root.counter(base + "ok");
    denied = root.counter(base + "denied");
    error = root.counter(base + "error");
    disabled = root.counter(base + "disabled");
    failureModeAllowed = root.counter(base + "failure_mode_allowed");
  }
}
