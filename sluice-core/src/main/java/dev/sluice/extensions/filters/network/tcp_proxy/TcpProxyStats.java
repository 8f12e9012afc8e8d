package dev.sluice.extensions.filters.network.tcp_proxy;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;

/** Envoy's {@code tcp.<stat_prefix>.*} stats. */
final class TcpProxyStats {
  final Counter downstreamCxTotal;
  final Counter downstreamCxNoRoute;
  final Counter downstreamCxTxBytesTotal;
  final Counter downstreamCxRxBytesTotal;
  final Counter downstreamFlowControlPausedReadingTotal;
  final Counter downstreamFlowControlResumedReadingTotal;
  final Counter idleTimeout;
  final Counter maxDownstreamConnectionDuration;
  final Counter upstreamFlushTotal;
  final Gauge upstreamFlushActive;

  TcpProxyStats(StatsScope root, String statPrefix) {
    StatsScope s = root.scope("tcp." + statPrefix + ".");
    downstreamCxTotal = s.counter("downstream_cx_total");
    downstreamCxNoRoute = s.counter("downstream_cx_no_route");
    downstreamCxTxBytesTotal = s.counter("downstream_cx_tx_bytes_total");
    downstreamCxRxBytesTotal = s.counter("downstream_cx_rx_bytes_total");
    downstreamFlowControlPausedReadingTotal = s.counter("downstream_flow_control_paused_reading_total");
    downstreamFlowControlResumedReadingTotal = s.counter("downstream_flow_control_resumed_reading_total");
    idleTimeout = s.counter("idle_timeout");
    maxDownstreamConnectionDuration = s.counter("max_downstream_connection_duration");
    upstreamFlushTotal = s.counter("upstream_flush_total");
    upstreamFlushActive = s.gauge("upstream_flush_active");
  }
}
