package dev.sluice.extensions.filters.http.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** Envoy's back-off: uniform in [0, (2^n - 1) * base), capped at max, exponent bounded. */
class JitteredBackOffTest {
  /** A generator that always answers the same value. */
  private static RandomGenerator constant(long v) {
    return () -> v;
  }

  @Test
  void theRangeDoublesPlusOneUntilTheCap() {
    // Ranges 25, 75, 175, then 375 (past the 250 cap, so it stops growing): 374 mod each range.
    JitteredBackOff b = new JitteredBackOff(25, 250, constant(374));
    assertThat(new long[] {b.nextBackOffMillis(), b.nextBackOffMillis(), b.nextBackOffMillis(),
        b.nextBackOffMillis(), b.nextBackOffMillis()}).containsExactly(24, 74, 24, 250, 250);
    JitteredBackOff low = new JitteredBackOff(25, 250, constant(399));
    assertThat(new long[] {low.nextBackOffMillis(), low.nextBackOffMillis(), low.nextBackOffMillis(),
        low.nextBackOffMillis(), low.nextBackOffMillis()}).containsExactly(24, 24, 49, 24, 24);
  }

  @Test
  void manyRetriesStayWithinTheCapAndSpreadOverTheRange() {
    JitteredBackOff b = new JitteredBackOff(10, 100, new SplittableRandom(7));
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 10_000; i++) {
      long v = b.nextBackOffMillis();
      assertThat(v).isBetween(0L, 100L);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertThat(min).isLessThan(10);
    assertThat(max).isGreaterThan(90);
  }
}
