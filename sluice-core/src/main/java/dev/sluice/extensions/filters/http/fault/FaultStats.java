package dev.sluice.extensions.filters.http.fault;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;

/**
 * Envoy's fault filter stats, under {@code http.<stat_prefix>.fault.}. The per-downstream-cluster
 * copies ({@code fault.<downstream_cluster>.*}) are not kept: they would need a name built per request.
 */
final class FaultStats {
  final Counter delaysInjected;
  final Counter abortsInjected;
  final Counter responseRlInjected;
  final Counter faultsOverflow;
  final Gauge activeFaults;

  FaultStats(StatsScope scope) {
    delaysInjected = scope.counter("delays_injected");
    abortsInjected = scope.counter("aborts_injected");
    responseRlInjected = scope.counter("response_rl_injected");
    faultsOverflow = scope.counter("faults_overflow");
    activeFaults = scope.gauge("active_faults");
  }
}
