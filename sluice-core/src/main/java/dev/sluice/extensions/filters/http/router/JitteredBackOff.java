package dev.sluice.extensions.filters.http.router;

import java.util.random.RandomGenerator;

/**
 * Envoy's fully jittered exponential back-off (JitteredExponentialBackOffStrategy): the n-th wait
 * is uniform in {@code [0, (2^n - 1) * base)}, capped at {@code max}; the exponent stops growing
 * once the range passes {@code max}, so it cannot overflow.
 */
final class JitteredBackOff {
  private final long baseMillis;
  private final long maxMillis;
  private final RandomGenerator random;
  private int currentRetry = 1;

  JitteredBackOff(long baseMillis, long maxMillis, RandomGenerator random) {
    this.baseMillis = baseMillis;
    this.maxMillis = maxMillis;
    this.random = random;
  }

  long nextBackOffMillis() {
    long range = ((1L << currentRetry) - 1) * baseMillis;
    if (range <= maxMillis) {
      currentRetry++;
    }
    return Math.min(Long.remainderUnsigned(random.nextLong(), range), maxMillis);
  }
}
