package dev.sluice.upstream.outlier;

import dev.sluice.api.upstream.OutlierMonitor;
import dev.sluice.upstream.HostImpl;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One host's outlier state (Envoy's DetectorHostMonitorImpl). Workers report results through
 * {@link OutlierMonitor} with atomics only; reaching a consecutive-error threshold hands the host
 * to the detector on the control thread. Ejection bookkeeping is control-thread state.
 */
public final class HostMonitor implements OutlierMonitor {
  final HostImpl host;
  private final OutlierDetector detector;
  private final OutlierDetectionConfig config;
  final AtomicInteger consecutive5xx = new AtomicInteger();
  final AtomicInteger consecutiveGatewayFailure = new AtomicInteger();
  final AtomicInteger consecutiveLocalOriginFailure = new AtomicInteger();
  final SuccessRateBuckets external = new SuccessRateBuckets();
  final SuccessRateBuckets localOrigin = new SuccessRateBuckets();
  // Control thread only:
  int numEjections;
  /** Ejection time multiplier: grows with each ejection, shrinks while the host stays healthy. */
  int ejectTimeBackoff;
  long lastEjectionNanos;
  long lastUnejectionNanos = -1;
  long jitterMillis;
  private volatile double successRate = -1;
  private volatile double localOriginSuccessRate = -1;

  HostMonitor(HostImpl host, OutlierDetector detector, OutlierDetectionConfig config) {
    this.host = host;
    this.detector = detector;
    this.config = config;
  }

  /**
   * A 5xx is a failure (502, 503 and 504 also gateway failures); anything else a success that
   * ends both runs.
   */
  @Override
  public void putHttpResponseCode(int status) {
    if (status >= 500 && status < 600) {
      external.total();
      if (status >= 502 && status <= 504) {
        if (consecutiveGatewayFailure.incrementAndGet() == config.consecutiveGatewayFailure()) {
          detector.onConsecutiveError(this, EjectionType.CONSECUTIVE_GATEWAY_FAILURE);
        }
      } else {
        consecutiveGatewayFailure.set(0);
      }
      if (consecutive5xx.incrementAndGet() == config.consecutive5xx()) {
        detector.onConsecutiveError(this, EjectionType.CONSECUTIVE_5XX);
      }
    } else {
      external.success();
      consecutive5xx.set(0);
      consecutiveGatewayFailure.set(0);
    }
  }

  /**
   * With {@code split_external_local_origin_errors}, local-origin results feed their own run and
   * success rate; without it they count as HTTP codes (connect failure 503, timeout 504), and a
   * bare connect success, which the request's own status will follow, counts as nothing.
   */
  @Override
  public void putResult(Result result) {
    if (config.splitExternalLocalOriginErrors()) {
      switch (result) {
        case LOCAL_ORIGIN_CONNECT_SUCCESS, LOCAL_ORIGIN_CONNECT_SUCCESS_FINAL -> localOriginNoFailure();
        case LOCAL_ORIGIN_TIMEOUT, LOCAL_ORIGIN_CONNECT_FAILED -> localOriginFailure();
        case EXT_ORIGIN_REQUEST_FAILED -> putHttpResponseCode(503);
        case EXT_ORIGIN_REQUEST_SUCCESS -> putHttpResponseCode(200);
      }
      return;
    }
    switch (result) {
      case EXT_ORIGIN_REQUEST_SUCCESS, LOCAL_ORIGIN_CONNECT_SUCCESS_FINAL -> putHttpResponseCode(200);
      case LOCAL_ORIGIN_TIMEOUT -> putHttpResponseCode(504);
      case LOCAL_ORIGIN_CONNECT_FAILED -> putHttpResponseCode(503);
      case EXT_ORIGIN_REQUEST_FAILED -> putHttpResponseCode(500);
      case LOCAL_ORIGIN_CONNECT_SUCCESS -> { }
    }
  }

  private void localOriginFailure() {
    localOrigin.total();
    if (consecutiveLocalOriginFailure.incrementAndGet() == config.consecutiveLocalOriginFailure()) {
      detector.onConsecutiveError(this, EjectionType.CONSECUTIVE_LOCAL_ORIGIN_FAILURE);
    }
  }

  private void localOriginNoFailure() {
    localOrigin.success();
    consecutiveLocalOriginFailure.set(0);
  }

  void resetConsecutive() {
    consecutive5xx.set(0);
    consecutiveGatewayFailure.set(0);
    consecutiveLocalOriginFailure.set(0);
  }

  /** The success rate of the last interval ({@code /clusters}), or -1 when none was computed. */
  public double successRate() {
    return successRate;
  }

  /** The local-origin success rate of the last interval, or -1. */
  public double localOriginSuccessRate() {
    return localOriginSuccessRate;
  }

  void setSuccessRate(boolean local, double rate) {
    if (local) {
      localOriginSuccessRate = rate;
    } else {
      successRate = rate;
    }
  }

  /** How many times this host was ejected. */
  public int numEjections() {
    return numEjections;
  }

  /**
   * Envoy's two-bucket success rate accumulator: workers count into the current bucket; each
   * interval the control thread swaps in a fresh one and reads the finished one.
   */
  static final class SuccessRateBuckets {
    private final AtomicReference<Bucket> current = new AtomicReference<>(new Bucket());
    private Bucket finished = new Bucket();

    void total() {
      current.get().total.incrementAndGet();
    }

    void success() {
      Bucket b = current.get();
      b.total.incrementAndGet();
      b.success.incrementAndGet();
    }

    /** Control thread: ends the interval. */
    void swap() {
      finished = current.getAndSet(new Bucket());
    }

    long volume() {
      return finished.total.get();
    }

    /** Percent of successes in the finished interval (volume must be above 0). */
    double rate() {
      return 100.0 * finished.success.get() / finished.total.get();
    }

    private static final class Bucket {
      final AtomicLong success = new AtomicLong();
      final AtomicLong total = new AtomicLong();
    }
  }
}
