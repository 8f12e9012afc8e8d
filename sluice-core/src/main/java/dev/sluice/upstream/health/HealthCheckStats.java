package dev.sluice.upstream.health;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;

/** Envoy's {@code cluster.<name>.health_check.*} stats. */
final class HealthCheckStats {
  final Counter attempt;
  final Counter success;
  final Counter failure;
  final Counter passiveFailure;
  final Counter networkFailure;
  final Counter verifyCluster;
  final Gauge healthy;
  final Gauge degraded;

  /** @param clusterScope {@code cluster.<name>.} */
  HealthCheckStats(StatsScope clusterScope) {
    StatsScope s = clusterScope.scope("health_check.");
    attempt = s.counter("attempt");
    success = s.counter("success");
    failure = s.counter("failure");
    passiveFailure = s.counter("passive_failure");
    networkFailure = s.counter("network_failure");
    verifyCluster = s.counter("verify_cluster");
    healthy = s.gauge("healthy");
    degraded = s.gauge("degraded");
  }
}
