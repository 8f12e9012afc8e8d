package dev.sluice.stats;

import java.util.List;
import java.util.Map;

/**
 * {@code /stats} as text: {@code name: value} lines, then histograms as
 * {@code name: P0(interval,cumulative) P25(...) ...} (or bucket counts with
 * {@code histogram_buckets}), {@code No recorded values} for a histogram never written.
 */
public final class TextStatsFormatter {
  private TextStatsFormatter() {}

  public static String format(StatsStore store, StatsParams params) {
    StatsSelection selection = StatsSelection.of(store, params);
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, Long> e : selection.countersAndGauges().entrySet()) {
      out.append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    for (StatsStore.HistogramImpl h : selection.histograms()) {
      out.append(h.name()).append(": ");
      if (!h.used()) {
        out.append("No recorded values\n");
        continue;
      }
      switch (params.histogramBuckets()) {
        case CUMULATIVE -> appendBuckets(out, h.intervalStatistics().computedBuckets(),
            h.cumulativeStatistics().computedBuckets(), h.cumulativeStatistics().supportedBuckets());
        case DISJOINT -> appendBuckets(out, h.intervalStatistics().disjointBuckets(),
            h.cumulativeStatistics().disjointBuckets(), h.cumulativeStatistics().supportedBuckets());
        case UNSET, SUMMARY -> out.append(quantileSummary(h));
      }
      out.append('\n');
    }
    return out.toString();
  }

  /** Envoy's {@code ParentHistogram::quantileSummary()}. */
  static String quantileSummary(StatsStore.HistogramImpl h) {
    double[] interval = h.intervalStatistics().computedQuantiles();
    double[] cumulative = h.cumulativeStatistics().computedQuantiles();
    StringBuilder out = new StringBuilder();
    List<Double> quantiles = HistogramStatistics.SUPPORTED_QUANTILES;
    for (int i = 0; i < quantiles.size(); i++) {
      if (i > 0) {
        out.append(' ');
      }
      out.append('P').append(EnvoyNumbers.shortest(quantiles.get(i) * 100))
          .append('(').append(EnvoyNumbers.shortest(interval[i]))
          .append(',').append(EnvoyNumbers.shortest(cumulative[i])).append(')');
    }
    return out.toString();
  }

  private static void appendBuckets(
      StringBuilder out, long[] interval, long[] cumulative, List<Double> bounds) {
    for (int i = 0; i < bounds.size(); i++) {
      if (i > 0) {
        out.append(' ');
      }
      out.append('B').append(EnvoyNumbers.shortest(bounds.get(i)))
          .append('(').append(interval[i]).append(',').append(cumulative[i]).append(')');
    }
  }
}
