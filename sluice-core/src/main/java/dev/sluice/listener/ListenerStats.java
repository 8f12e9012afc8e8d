package dev.sluice.listener;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.Histogram;
import dev.sluice.api.stats.StatsScope;

/**
 * Envoy's {@code listener.<address or stat_prefix>.*} stats, resolved once per listener name; the
 * versions of one listener share them (as Envoy's do, by name).
 */
public final class ListenerStats {
  public final Counter downstreamCxTotal;
  public final Counter downstreamCxDestroy;
  public final Gauge downstreamCxActive;
  public final Histogram downstreamCxLengthMs;
  /** Over the listener's own connection limit. */
  public final Counter downstreamCxOverflow;
  /** Over the overload manager's global downstream connection limit. */
  public final Counter downstreamGlobalCxOverflow;
  public final Counter noFilterChainMatch;
  public final Gauge downstreamPreCxActive;
  public final Counter downstreamPreCxTimeout;
  public final Counter downstreamListenerFilterError;
  public final Counter downstreamListenerFilterRemoteClose;
  /** {@code listener.<addr>.worker_<i>.downstream_cx_total}. */
  final Counter[] workerCxTotal;
  /** {@code listener.<addr>.worker_<i>.downstream_cx_active}. */
  final Gauge[] workerCxActive;

  ListenerStats(StatsScope scope, int workers) {
    downstreamCxTotal = scope.counter("downstream_cx_total");
    downstreamCxDestroy = scope.counter("downstream_cx_destroy");
    downstreamCxActive = scope.gauge("downstream_cx_active");
    downstreamCxLengthMs = scope.histogram("downstream_cx_length_ms", Histogram.Unit.MILLISECONDS);
    downstreamCxOverflow = scope.counter("downstream_cx_overflow");
    downstreamGlobalCxOverflow = scope.counter("downstream_global_cx_overflow");
    noFilterChainMatch = scope.counter("no_filter_chain_match");
    downstreamPreCxActive = scope.gauge("downstream_pre_cx_active");
    downstreamPreCxTimeout = scope.counter("downstream_pre_cx_timeout");
    downstreamListenerFilterError = scope.counter("downstream_listener_filter_error");
    downstreamListenerFilterRemoteClose = scope.counter("downstream_listener_filter_remote_close");
    workerCxTotal = new Counter[workers];
    workerCxActive = new Gauge[workers];
    for (int i = 0; i < workers; i++) {
      StatsScope worker = scope.scope("worker_" + i + ".");
      workerCxTotal[i] = worker.counter("downstream_cx_total");
      workerCxActive[i] = worker.gauge("downstream_cx_active");
    }
  }
}
