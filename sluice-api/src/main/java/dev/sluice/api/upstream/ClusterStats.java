package dev.sluice.api.upstream;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.Histogram;
import dev.sluice.api.stats.StatsScope;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's {@code cluster.<name>.*} stats, declared once and resolved when the cluster is built, so
 * the hot path increments a field. Field names are Envoy's stat names in camel case.
 */
public final class ClusterStats {
  public final Counter upstreamCxTotal;
  public final Gauge upstreamCxActive;
  public final Counter upstreamCxHttp1Total;
  public final Counter upstreamCxHttp2Total;
  public final Counter upstreamCxConnectFail;
  public final Counter upstreamCxConnectTimeout;
  public final Counter upstreamCxOverflow;
  public final Counter upstreamCxDestroy;
  public final Counter upstreamCxDestroyLocal;
  public final Counter upstreamCxDestroyRemote;
  public final Counter upstreamCxDestroyWithActiveRq;
  public final Counter upstreamCxIdleTimeout;
  public final Counter upstreamCxMaxRequests;
  public final Counter upstreamCxNoneHealthy;
  public final Counter upstreamCxRxBytesTotal;
  public final Counter upstreamCxTxBytesTotal;
  public final Counter upstreamCxProtocolError;
  public final Histogram upstreamCxConnectMs;
  public final Histogram upstreamCxLengthMs;
  public final Counter upstreamRqTotal;
  public final Gauge upstreamRqActive;
  public final Counter upstreamRqCompleted;
  public final Counter upstreamRqPendingTotal;
  public final Gauge upstreamRqPendingActive;
  public final Counter upstreamRqPendingOverflow;
  public final Counter upstreamRqPendingFailureEject;
  public final Counter upstreamRqCancelled;
  public final Counter upstreamRqTimeout;
  public final Counter upstreamRqPerTryTimeout;
  public final Counter upstreamRqPerTryIdleTimeout;
  public final Counter upstreamRqRxReset;
  public final Counter upstreamRqTxReset;
  public final Counter upstreamRqRetry;
  public final Counter upstreamRqRetrySuccess;
  public final Counter upstreamRqRetryOverflow;
  public final Counter upstreamRqRetryLimitExceeded;
  public final Counter upstreamRqRetryBackoffExponential;
  /** A request body outgrew the buffer limit, so it could no longer be retried or mirrored. */
  public final Counter retryOrShadowAbandoned;
  public final Counter upstreamRqMaxDurationReached;
  public final Counter upstreamRq1xx;
  public final Counter upstreamRq2xx;
  public final Counter upstreamRq3xx;
  public final Counter upstreamRq4xx;
  public final Counter upstreamRq5xx;
  public final Histogram upstreamRqTime;
  public final Counter lbHealthyPanic;
  public final Counter membershipChange;
  public final Gauge membershipHealthy;
  public final Gauge membershipDegraded;
  public final Gauge membershipExcluded;
  public final Gauge membershipTotal;
  public final Gauge maxHostWeight;
  public final Counter updateAttempt;
  public final Counter updateSuccess;
  public final Counter updateFailure;
  public final Counter updateEmpty;
  public final Counter updateNoRebuild;
  public final Gauge version;
  public final Counter assignmentStale;
  public final Counter assignmentTimeoutReceived;
  private final StatsScope scope;

  /** @param scope the cluster's scope, {@code cluster.<name>.} */
  public ClusterStats(StatsScope scope) {
    this.scope = scope;
    upstreamCxTotal = scope.counter("upstream_cx_total");
    upstreamCxActive = scope.gauge("upstream_cx_active");
    upstreamCxHttp1Total = scope.counter("upstream_cx_http1_total");
    upstreamCxHttp2Total = scope.counter("upstream_cx_http2_total");
    upstreamCxConnectFail = scope.counter("upstream_cx_connect_fail");
    upstreamCxConnectTimeout = scope.counter("upstream_cx_connect_timeout");
    upstreamCxOverflow = scope.counter("upstream_cx_overflow");
    upstreamCxDestroy = scope.counter("upstream_cx_destroy");
    upstreamCxDestroyLocal = scope.counter("upstream_cx_destroy_local");
    upstreamCxDestroyRemote = scope.counter("upstream_cx_destroy_remote");
    upstreamCxDestroyWithActiveRq = scope.counter("upstream_cx_destroy_with_active_rq");
    upstreamCxIdleTimeout = scope.counter("upstream_cx_idle_timeout");
    upstreamCxMaxRequests = scope.counter("upstream_cx_max_requests");
    upstreamCxNoneHealthy = scope.counter("upstream_cx_none_healthy");
    upstreamCxRxBytesTotal = scope.counter("upstream_cx_rx_bytes_total");
    upstreamCxTxBytesTotal = scope.counter("upstream_cx_tx_bytes_total");
    upstreamCxProtocolError = scope.counter("upstream_cx_protocol_error");
    upstreamCxConnectMs = scope.histogram("upstream_cx_connect_ms", Histogram.Unit.MILLISECONDS);
    upstreamCxLengthMs = scope.histogram("upstream_cx_length_ms", Histogram.Unit.MILLISECONDS);
    upstreamRqTotal = scope.counter("upstream_rq_total");
    upstreamRqActive = scope.gauge("upstream_rq_active");
    upstreamRqCompleted = scope.counter("upstream_rq_completed");
    upstreamRqPendingTotal = scope.counter("upstream_rq_pending_total");
    upstreamRqPendingActive = scope.gauge("upstream_rq_pending_active");
    upstreamRqPendingOverflow = scope.counter("upstream_rq_pending_overflow");
    upstreamRqPendingFailureEject = scope.counter("upstream_rq_pending_failure_eject");
    upstreamRqCancelled = scope.counter("upstream_rq_cancelled");
    upstreamRqTimeout = scope.counter("upstream_rq_timeout");
    upstreamRqPerTryTimeout = scope.counter("upstream_rq_per_try_timeout");
    upstreamRqPerTryIdleTimeout = scope.counter("upstream_rq_per_try_idle_timeout");
    upstreamRqRxReset = scope.counter("upstream_rq_rx_reset");
    upstreamRqTxReset = scope.counter("upstream_rq_tx_reset");
    upstreamRqRetry = scope.counter("upstream_rq_retry");
    upstreamRqRetrySuccess = scope.counter("upstream_rq_retry_success");
    upstreamRqRetryOverflow = scope.counter("upstream_rq_retry_overflow");
    upstreamRqRetryLimitExceeded = scope.counter("upstream_rq_retry_limit_exceeded");
    upstreamRqRetryBackoffExponential = scope.counter("upstream_rq_retry_backoff_exponential");
    retryOrShadowAbandoned = scope.counter("retry_or_shadow_abandoned");
    upstreamRqMaxDurationReached = scope.counter("upstream_rq_max_duration_reached");
    upstreamRq1xx = scope.counter("upstream_rq_1xx");
    upstreamRq2xx = scope.counter("upstream_rq_2xx");
    upstreamRq3xx = scope.counter("upstream_rq_3xx");
    upstreamRq4xx = scope.counter("upstream_rq_4xx");
    upstreamRq5xx = scope.counter("upstream_rq_5xx");
    upstreamRqTime = scope.histogram("upstream_rq_time", Histogram.Unit.MILLISECONDS);
    lbHealthyPanic = scope.counter("lb_healthy_panic");
    membershipChange = scope.counter("membership_change");
    membershipHealthy = scope.gauge("membership_healthy");
    membershipDegraded = scope.gauge("membership_degraded");
    membershipExcluded = scope.gauge("membership_excluded");
    membershipTotal = scope.gauge("membership_total");
    maxHostWeight = scope.gauge("max_host_weight");
    updateAttempt = scope.counter("update_attempt");
    updateSuccess = scope.counter("update_success");
    updateFailure = scope.counter("update_failure");
    updateEmpty = scope.counter("update_empty");
    updateNoRebuild = scope.counter("update_no_rebuild");
    version = scope.gauge("version");
    assignmentStale = scope.counter("assignment_stale");
    assignmentTimeoutReceived = scope.counter("assignment_timeout_received");
  }

  /** The class counter for a status code ({@code upstream_rq_2xx}...). */
  public Counter responseClass(int status) {
    return switch (status / 100) {
      case 1 -> upstreamRq1xx;
      case 2 -> upstreamRq2xx;
      case 3 -> upstreamRq3xx;
      case 4 -> upstreamRq4xx;
      default -> upstreamRq5xx;
    };
  }

  /**
   * The per-code counter ({@code upstream_rq_200}), resolved once per code and cached. The cache
   * is made on the first response: most of a mesh's thousands of clusters never see one, and 500
   * slots per cluster would be a fifth of its memory.
   */
  public Counter responseCode(int status) {
    if (status < MIN_CODE || status > MAX_CODE) {
      return scope.counter("upstream_rq_" + status);
    }
    AtomicReferenceArray<Counter> cache = byCode;
    if (cache == null) {
      cache = codeCache();
    }
    Counter c = cache.getAcquire(status - MIN_CODE);
    if (c == null) {
      // Benign race: every thread resolves the same counter from the scope.
      c = scope.counter("upstream_rq_" + status);
      cache.setRelease(status - MIN_CODE, c);
    }
    return c;
  }

  private AtomicReferenceArray<Counter> codeCache() {
    AtomicReferenceArray<Counter> fresh = new AtomicReferenceArray<>(MAX_CODE - MIN_CODE + 1);
    // Published once: a thread that lost the race uses the winner's array.
    AtomicReferenceArray<Counter> witness = (AtomicReferenceArray<Counter>) BY_CODE.compareAndExchange(this, null, fresh);
    return witness == null ? fresh : witness;
  }

  private static final int MIN_CODE = 100;
  private static final int MAX_CODE = 599;
  private static final VarHandle BY_CODE;

  static {
    try {
      BY_CODE = MethodHandles.lookup().findVarHandle(ClusterStats.class, "byCode", AtomicReferenceArray.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private volatile @Nullable AtomicReferenceArray<Counter> byCode;
}
