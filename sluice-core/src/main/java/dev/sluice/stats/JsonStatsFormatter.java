package dev.sluice.stats;

import java.util.List;
import java.util.Map;

/**
 * {@code /stats?format=json} as Envoy writes it: {@code {"stats":[{"name":..,"value":..},...,
 * {"histograms":{"supported_quantiles":[...],"computed_quantiles":[{"name":..,"values":[
 * {"cumulative":..,"interval":..},...]}]}}]}}, compact; NaN quantiles are {@code null}. With
 * {@code histogram_buckets}, {@code {"histograms":[{"name":..,"buckets":[{"upper_bound":..,
 * "interval":..,"cumulative":..}]}]}}.
 */
public final class JsonStatsFormatter {
  private JsonStatsFormatter() {}

  public static String format(StatsStore store, StatsParams params) {
    StatsSelection selection = StatsSelection.of(store, params);
    StringBuilder out = new StringBuilder("{\"stats\":[");
    boolean first = true;
    for (Map.Entry<String, Long> e : selection.countersAndGauges().entrySet()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      out.append("{\"name\":");
      appendString(out, e.getKey());
      out.append(",\"value\":").append(e.getValue()).append('}');
    }
    if (!selection.histograms().isEmpty()) {
      if (!first) {
        out.append(',');
      }
      switch (params.histogramBuckets()) {
        case CUMULATIVE, DISJOINT -> appendBuckets(out, selection.histograms(),
            params.histogramBuckets() == StatsParams.BucketMode.DISJOINT);
        case UNSET, SUMMARY -> appendQuantiles(out, selection.histograms());
      }
    }
    return out.append("]}").toString();
  }

  private static void appendQuantiles(StringBuilder out, List<StatsStore.HistogramImpl> hs) {
    out.append("{\"histograms\":{\"supported_quantiles\":[");
    List<Double> quantiles = HistogramStatistics.SUPPORTED_QUANTILES;
    for (int i = 0; i < quantiles.size(); i++) {
      out.append(i > 0 ? "," : "").append(EnvoyNumbers.jsonNumber(quantiles.get(i) * 100));
    }
    out.append("],\"computed_quantiles\":[");
    for (int h = 0; h < hs.size(); h++) {
      StatsStore.HistogramImpl histogram = hs.get(h);
      out.append(h > 0 ? "," : "").append("{\"name\":");
      appendString(out, histogram.name());
      out.append(",\"values\":[");
      double[] cumulative = histogram.cumulativeStatistics().computedQuantiles();
      double[] interval = histogram.intervalStatistics().computedQuantiles();
      for (int i = 0; i < cumulative.length; i++) {
        out.append(i > 0 ? "," : "")
            .append("{\"cumulative\":").append(EnvoyNumbers.jsonNumber(cumulative[i]))
            .append(",\"interval\":").append(EnvoyNumbers.jsonNumber(interval[i])).append('}');
      }
      out.append("]}");
    }
    out.append("]}}");
  }

  private static void appendBuckets(
      StringBuilder out, List<StatsStore.HistogramImpl> hs, boolean disjoint) {
    out.append("{\"histograms\":[");
    for (int h = 0; h < hs.size(); h++) {
      StatsStore.HistogramImpl histogram = hs.get(h);
      HistogramStatistics in = histogram.intervalStatistics();
      HistogramStatistics cu = histogram.cumulativeStatistics();
      long[] interval = disjoint ? in.disjointBuckets() : in.computedBuckets();
      long[] cumulative = disjoint ? cu.disjointBuckets() : cu.computedBuckets();
      out.append(h > 0 ? "," : "").append("{\"name\":");
      appendString(out, histogram.name());
      out.append(",\"buckets\":[");
      List<Double> bounds = cu.supportedBuckets();
      for (int i = 0; i < bounds.size(); i++) {
        out.append(i > 0 ? "," : "")
            .append("{\"upper_bound\":").append(EnvoyNumbers.jsonNumber(bounds.get(i)))
            .append(",\"interval\":").append(interval[i])
            .append(",\"cumulative\":").append(cumulative[i]).append('}');
      }
      out.append("]}");
    }
    out.append("]}");
  }

  static void appendString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
