package dev.sluice.it.bookinfo;

/**
 * The exact binomial acceptance interval for a share seen in {@code n} independent trials: a
 * count outside {@code [low, high]} has probability at most {@code alpha} when the true share is
 * {@code p}, so a test that rejects outside it fails falsely at most that often.
 */
record Binomial(int n, double p, int low, int high) {

  /** The narrowest interval with at most {@code alpha / 2} of the probability below it and above it. */
  static Binomial acceptance(int n, double p, double alpha) {
    double[] pmf = new double[n + 1];
    for (int k = 0; k <= n; k++) {
      pmf[k] = Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
    }
    int low = 0;
    double below = 0;
    while (low < n && below + pmf[low] <= alpha / 2) {
      below += pmf[low++];
    }
    int high = n;
    double above = 0;
    while (high > 0 && above + pmf[high] <= alpha / 2) {
      above += pmf[high--];
    }
    return new Binomial(n, p, low, high);
  }

  boolean accepts(int count) {
    return count >= low && count <= high;
  }

  private static double logChoose(int n, int k) {
    double s = 0;
    for (int i = 1; i <= k; i++) {
      s += Math.log(n - k + i) - Math.log(i);
    }
    return s;
  }

  @Override
  public String toString() {
    return "[" + low + ", " + high + "] of " + n + " for p = " + p;
  }
}
