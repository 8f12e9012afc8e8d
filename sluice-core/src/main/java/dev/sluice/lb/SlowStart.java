package dev.sluice.lb;

/**
 * Envoy's {@code slow_start_config} for ROUND_ROBIN and LEAST_REQUEST: during {@code window} after
 * a host joined the cluster (or became healthy again), its weight is scaled by
 * {@code max(minWeight, timeFactor^(1/aggression))} where {@code timeFactor} is the time since
 * then (at least 1 ms) over the window.
 *
 * @param windowNanos {@code slow_start_window}
 * @param aggression {@code aggression.default_value}, 1.0 (linear) unless set; above 0
 * @param minWeight {@code min_weight_percent} as a fraction, 0.1 unless set
 */
public record SlowStart(long windowNanos, double aggression, double minWeight) {
  private static final long MILLI = 1_000_000L;

  /** The factor (in {@code (0, 1]}) that scales the weight of a host that started at {@code since}. */
  public double factor(long since, long now) {
    long elapsed = now - since;
    if (elapsed >= windowNanos) {
      return 1.0;
    }
    double timeFactor = (double) Math.max(MILLI, elapsed) / windowNanos;
    double ramp = aggression == 1.0 ? timeFactor : Math.pow(timeFactor, 1.0 / aggression);
    return Math.min(1.0, Math.max(minWeight, ramp));
  }

  /** Whether a host that started at {@code since} is still ramping up at {@code now}. */
  public boolean ramping(long since, long now) {
    return now - since < windowNanos;
  }
}
