package dev.sluice.it.routing;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bounds for counts of random picks seen through the network, where no seed can be fixed: a
 * binomial count within five standard deviations of its mean fails by chance with probability
 * below 6e-7.
 */
final class Statistics {
  private Statistics() {}

  /** Asserts {@code count} of {@code n} independent picks is consistent with probability {@code p}. */
  static void assertBinomial(String what, long count, long n, double p) {
    double mean = n * p;
    double bound = 5 * Math.sqrt(n * p * (1 - p));
    assertThat((double) count)
        .as("%s: %d of %d, expected %.0f +- %.1f", what, count, n, mean, bound)
        .isBetween(mean - bound, mean + bound);
  }
}
