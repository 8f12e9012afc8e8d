package dev.sluice.http;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.Histogram;
import dev.sluice.api.stats.StatsScope;

/** Envoy's {@code http.<stat_prefix>.*} connection-manager stats, resolved once per config. */
public final class HttpConnectionManagerStats {
  public final Counter downstreamCxTotal;
  public final Gauge downstreamCxActive;
  public final Counter downstreamCxHttp1Total;
  public final Gauge downstreamCxHttp1Active;
  public final Counter downstreamCxHttp2Total;
  public final Gauge downstreamCxHttp2Active;
  public final Counter downstreamCxSslTotal;
  public final Counter downstreamCxUpgradesTotal;
  public final Gauge downstreamCxUpgradesActive;
  public final Counter downstreamCxDestroy;
  public final Counter downstreamCxDestroyRemote;
  public final Counter downstreamCxDestroyLocal;
  public final Counter downstreamCxDestroyActiveRq;
  public final Counter downstreamCxDestroyRemoteActiveRq;
  public final Counter downstreamCxDestroyLocalActiveRq;
  public final Counter downstreamCxProtocolError;
  public final Counter downstreamCxIdleTimeout;
  public final Counter downstreamCxMaxDurationReached;
  public final Counter downstreamCxDrainClose;
  public final Counter downstreamCxRxBytesTotal;
  public final Counter downstreamCxTxBytesTotal;
  public final Histogram downstreamCxLengthMs;
  public final Counter downstreamRqTotal;
  public final Counter downstreamRqHttp1Total;
  public final Counter downstreamRqHttp2Total;
  public final Gauge downstreamRqActive;
  public final Counter downstreamRqCompleted;
  public final Counter downstreamRq1xx;
  public final Counter downstreamRq2xx;
  public final Counter downstreamRq3xx;
  public final Counter downstreamRq4xx;
  public final Counter downstreamRq5xx;
  public final Counter downstreamRqRxReset;
  public final Counter downstreamRqTxReset;
  public final Counter downstreamRqTooLarge;
  public final Counter downstreamRqTimeout;
  public final Counter downstreamRqHeaderTimeout;
  public final Counter downstreamRqIdleTimeout;
  public final Counter downstreamRqMaxDurationReached;
  public final Counter downstreamRqWsOnNonWsRoute;
  public final Counter downstreamRqNonRelativePath;
  public final Counter downstreamRqFailedPathNormalization;
  public final Counter downstreamRqRedirectedWithNormalizedPath;
  public final Counter downstreamRqOverloadClose;
  public final Counter downstreamRqResponseBeforeRqComplete;
  public final Counter rqDirectResponse;
  public final Counter rqRedirect;
  public final Counter rqTotal;
  public final Counter noRoute;
  public final Counter noCluster;
  public final Counter rqReset;
  public final Counter requestsRejectedWithUnderscoresInHeaders;
  public final Counter droppedHeadersWithUnderscores;
  public final Histogram downstreamRqTime;
  public final StatsScope scope;

  /** @param scope {@code http.<stat_prefix>.} */
  public HttpConnectionManagerStats(StatsScope scope) {
    this.scope = scope;
    downstreamCxTotal = scope.counter("downstream_cx_total");
    downstreamCxActive = scope.gauge("downstream_cx_active");
    downstreamCxHttp1Total = scope.counter("downstream_cx_http1_total");
    downstreamCxHttp1Active = scope.gauge("downstream_cx_http1_active");
    downstreamCxHttp2Total = scope.counter("downstream_cx_http2_total");
    downstreamCxHttp2Active = scope.gauge("downstream_cx_http2_active");
    downstreamCxSslTotal = scope.counter("downstream_cx_ssl_total");
    downstreamCxUpgradesTotal = scope.counter("downstream_cx_upgrades_total");
    downstreamCxUpgradesActive = scope.gauge("downstream_cx_upgrades_active");
    downstreamCxDestroy = scope.counter("downstream_cx_destroy");
    downstreamCxDestroyRemote = scope.counter("downstream_cx_destroy_remote");
    downstreamCxDestroyLocal = scope.counter("downstream_cx_destroy_local");
    downstreamCxDestroyActiveRq = scope.counter("downstream_cx_destroy_active_rq");
    downstreamCxDestroyRemoteActiveRq = scope.counter("downstream_cx_destroy_remote_active_rq");
    downstreamCxDestroyLocalActiveRq = scope.counter("downstream_cx_destroy_local_active_rq");
    downstreamCxProtocolError = scope.counter("downstream_cx_protocol_error");
    downstreamCxIdleTimeout = scope.counter("downstream_cx_idle_timeout");
    downstreamCxMaxDurationReached = scope.counter("downstream_cx_max_duration_reached");
    downstreamCxDrainClose = scope.counter("downstream_cx_drain_close");
    downstreamCxRxBytesTotal = scope.counter("downstream_cx_rx_bytes_total");
    downstreamCxTxBytesTotal = scope.counter("downstream_cx_tx_bytes_total");
    downstreamCxLengthMs = scope.histogram("downstream_cx_length_ms", Histogram.Unit.MILLISECONDS);
    downstreamRqTotal = scope.counter("downstream_rq_total");
    downstreamRqHttp1Total = scope.counter("downstream_rq_http1_total");
    downstreamRqHttp2Total = scope.counter("downstream_rq_http2_total");
    downstreamRqActive = scope.gauge("downstream_rq_active");
    downstreamRqCompleted = scope.counter("downstream_rq_completed");
    downstreamRq1xx = scope.counter("downstream_rq_1xx");
    downstreamRq2xx = scope.counter("downstream_rq_2xx");
    downstreamRq3xx = scope.counter("downstream_rq_3xx");
    downstreamRq4xx = scope.counter("downstream_rq_4xx");
    downstreamRq5xx = scope.counter("downstream_rq_5xx");
    downstreamRqRxReset = scope.counter("downstream_rq_rx_reset");
    downstreamRqTxReset = scope.counter("downstream_rq_tx_reset");
    downstreamRqTooLarge = scope.counter("downstream_rq_too_large");
    downstreamRqTimeout = scope.counter("downstream_rq_timeout");
    downstreamRqHeaderTimeout = scope.counter("downstream_rq_header_timeout");
    downstreamRqIdleTimeout = scope.counter("downstream_rq_idle_timeout");
    downstreamRqMaxDurationReached = scope.counter("downstream_rq_max_duration_reached");
    downstreamRqWsOnNonWsRoute = scope.counter("downstream_rq_ws_on_non_ws_route");
    downstreamRqNonRelativePath = scope.counter("downstream_rq_non_relative_path");
    downstreamRqFailedPathNormalization = scope.counter("downstream_rq_failed_path_normalization");
    downstreamRqRedirectedWithNormalizedPath =
        scope.counter("downstream_rq_redirected_with_normalized_path");
    downstreamRqOverloadClose = scope.counter("downstream_rq_overload_close");
    downstreamRqResponseBeforeRqComplete =
        scope.counter("downstream_rq_response_before_rq_complete");
    rqDirectResponse = scope.counter("rq_direct_response");
    rqRedirect = scope.counter("rq_redirect");
    rqTotal = scope.counter("rq_total");
    noRoute = scope.counter("no_route");
    noCluster = scope.counter("no_cluster");
    rqReset = scope.counter("rq_reset_after_downstream_response_started");
    requestsRejectedWithUnderscoresInHeaders =
        scope.counter("requests_rejected_with_underscores_in_headers");
    droppedHeadersWithUnderscores = scope.counter("dropped_headers_with_underscores");
    downstreamRqTime = scope.histogram("downstream_rq_time", Histogram.Unit.MILLISECONDS);
  }

  public Counter responseClass(int status) {
    return switch (status / 100) {
      case 1 -> downstreamRq1xx;
      case 2 -> downstreamRq2xx;
      case 3 -> downstreamRq3xx;
      case 4 -> downstreamRq4xx;
      default -> downstreamRq5xx;
    };
  }
}
