package dev.sluice.stats;

import java.util.Arrays;
import java.util.List;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Quantiles and bucket counts of one histogram at one merge, as Envoy's
 * {@code HistogramStatisticsImpl}: quantiles are NaN when nothing was recorded, bucket counts are
 * cumulative (values &lt;= the bound). Immutable.
 */
public final class HistogramStatistics {
  /** Envoy's supported quantiles. */
  public static final List<Double> SUPPORTED_QUANTILES =
      List.of(0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1.0);

  /** Envoy's default histogram bucket bounds. */
  public static final List<Double> DEFAULT_BUCKETS =
      List.of(0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
          10000.0, 30000.0, 60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0);

  private final long sampleCount;
  private final double sampleSum;
  private final double[] quantiles;
  private final List<Double> supportedBuckets;
  private final long[] buckets;

  private HistogramStatistics(
      long sampleCount, double sampleSum, double[] quantiles, List<Double> supportedBuckets,
      long[] buckets) {
    this.sampleCount = sampleCount;
    this.sampleSum = sampleSum;
    this.quantiles = quantiles;
    this.supportedBuckets = supportedBuckets;
    this.buckets = buckets;
  }

  static HistogramStatistics empty(List<Double> supportedBuckets) {
    double[] q = new double[SUPPORTED_QUANTILES.size()];
    Arrays.fill(q, Double.NaN);
    return new HistogramStatistics(0, 0, q, supportedBuckets, new long[supportedBuckets.size()]);
  }

  static HistogramStatistics of(org.HdrHistogram.Histogram h, List<Double> supportedBuckets) {
    long count = h.getTotalCount();
    if (count == 0) {
      return empty(supportedBuckets);
    }
    double[] q = new double[SUPPORTED_QUANTILES.size()];
    for (int i = 0; i < q.length; i++) {
      double quantile = SUPPORTED_QUANTILES.get(i);
      if (quantile == 0.0) {
        q[i] = h.getMinValue();
      } else if (quantile == 1.0) {
        q[i] = h.getMaxValue();
      } else {
        q[i] = h.getValueAtPercentile(quantile * 100);
      }
    }
    long[] b = new long[supportedBuckets.size()];
    double sum = 0;
    for (HistogramIterationValue v : h.recordedValues()) {
      long value = h.lowestEquivalentValue(v.getValueIteratedTo());
      long n = v.getCountAtValueIteratedTo();
      sum += (double) h.medianEquivalentValue(value) * n;
      for (int i = 0; i < b.length; i++) {
        if (value <= supportedBuckets.get(i)) {
          b[i] += n;
        }
      }
    }
    return new HistogramStatistics(count, sum, q, supportedBuckets, b);
  }

  public long sampleCount() {
    return sampleCount;
  }

  public double sampleSum() {
    return sampleSum;
  }

  /** Values at {@link #SUPPORTED_QUANTILES}, NaN when empty. */
  public double[] computedQuantiles() {
    return quantiles.clone();
  }

  public List<Double> supportedBuckets() {
    return supportedBuckets;
  }

  /** Cumulative counts: how many values were at most each bound. */
  public long[] computedBuckets() {
    return buckets.clone();
  }

  /** Counts per bucket alone: values in (previous bound, bound]. */
  public long[] disjointBuckets() {
    long[] d = new long[buckets.length];
    long previous = 0;
    for (int i = 0; i < buckets.length; i++) {
      d[i] = buckets[i] - previous;
      previous = buckets[i];
    }
    return d;
  }
}
