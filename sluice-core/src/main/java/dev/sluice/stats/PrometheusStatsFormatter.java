package dev.sluice.stats;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code /stats/prometheus} in Envoy's text exposition: stats grouped by tag-extracted name, one
 * {@code # TYPE} line per group, tags as labels. Names get the {@code envoy_} prefix and every
 * character outside {@code [a-zA-Z0-9_]} becomes {@code _}; stats of a registered custom
 * namespace drop the namespace token and get no prefix. Counters, then gauges, then histograms
 * (classic buckets from the cumulative statistics, or a summary of the interval with
 * {@code histogram_buckets=summary}).
 */
public final class PrometheusStatsFormatter {
  private PrometheusStatsFormatter() {}

  public static String format(StatsStore store, StatsParams params) {
    CustomStatNamespaces namespaces = store.customNamespaces();
    StringBuilder out = new StringBuilder();
    for (var group : groups(store.counters(), params).entrySet()) {
      metricName(group.getKey(), namespaces).ifPresent(name -> {
        out.append("# TYPE ").append(name).append(" counter\n");
        for (StatsStore.CounterImpl c : group.getValue()) {
          out.append(name).append('{').append(labels(c.tags())).append("} ")
              .append(c.value()).append('\n');
        }
      });
    }
    for (var group : groups(store.gauges(), params).entrySet()) {
      metricName(group.getKey(), namespaces).ifPresent(name -> {
        out.append("# TYPE ").append(name).append(" gauge\n");
        for (StatsStore.GaugeImpl g : group.getValue()) {
          out.append(name).append('{').append(labels(g.tags())).append("} ")
              .append(g.value()).append('\n');
        }
      });
    }
    boolean summary = params.histogramBuckets() == StatsParams.BucketMode.SUMMARY;
    for (var group : groups(store.histograms(), params).entrySet()) {
      metricName(group.getKey(), namespaces).ifPresent(name -> {
        out.append("# TYPE ").append(name).append(summary ? " summary\n" : " histogram\n");
        for (StatsStore.HistogramImpl h : group.getValue()) {
          if (summary) {
            appendSummary(out, name, h);
          } else {
            appendHistogram(out, name, h);
          }
        }
      });
    }
    return out.toString();
  }

  private static void appendHistogram(StringBuilder out, String name, StatsStore.HistogramImpl h) {
    HistogramStatistics stats = h.cumulativeStatistics();
    String tags = labels(h.tags());
    String bucketTags = tags.isEmpty() ? "" : tags + ",";
    List<Double> bounds = stats.supportedBuckets();
    long[] counts = stats.computedBuckets();
    for (int i = 0; i < bounds.size(); i++) {
      out.append(name).append("_bucket{").append(bucketTags).append("le=\"")
          .append(EnvoyNumbers.g32(bounds.get(i))).append("\"} ").append(counts[i]).append('\n');
    }
    out.append(name).append("_bucket{").append(bucketTags).append("le=\"+Inf\"} ")
        .append(stats.sampleCount()).append('\n');
    out.append(name).append("_sum{").append(tags).append("} ")
        .append(EnvoyNumbers.g32(stats.sampleSum())).append('\n');
    out.append(name).append("_count{").append(tags).append("} ")
        .append(stats.sampleCount()).append('\n');
  }

  private static void appendSummary(StringBuilder out, String name, StatsStore.HistogramImpl h) {
    HistogramStatistics stats = h.intervalStatistics();
    String tags = labels(h.tags());
    String quantileTags = tags.isEmpty() ? "" : tags + ",";
    double[] values = stats.computedQuantiles();
    List<Double> quantiles = HistogramStatistics.SUPPORTED_QUANTILES;
    for (int i = 0; i < quantiles.size(); i++) {
      out.append(name).append('{').append(quantileTags).append("quantile=\"")
          .append(EnvoyNumbers.shortest(quantiles.get(i))).append("\"} ")
          .append(EnvoyNumbers.g32(values[i])).append('\n');
    }
    out.append(name).append("_sum{").append(tags).append("} ")
        .append(EnvoyNumbers.g32(stats.sampleSum())).append('\n');
    out.append(name).append("_count{").append(tags).append("} ")
        .append(stats.sampleCount()).append('\n');
  }

  /** Shown stats grouped by tag-extracted name (sorted), each group sorted by full name. */
  private static <M extends StatsStore.Metric> Map<String, List<M>> groups(
      List<M> metrics, StatsParams params) {
    Map<String, List<M>> groups = new TreeMap<>();
    for (M m : metrics) {
      if (params.shows(m)) {
        groups.computeIfAbsent(m.tagExtractedName(), k -> new ArrayList<>()).add(m);
      }
    }
    // Names are built on demand (prefix + suffix): build each once, not at every comparison.
    groups.replaceAll((k, g) -> g.stream().map(m -> Map.entry(m.name(), m)).sorted(Map.Entry.comparingByKey())
        .map(Map.Entry::getValue).collect(java.util.stream.Collectors.toCollection(ArrayList::new)));
    return groups;
  }

  /**
   * Envoy's {@code PrometheusStatsFormatter::metricName}: empty when a custom-namespace name would
   * not be a valid Prometheus name (such stats are skipped).
   */
  public static Optional<String> metricName(String tagExtractedName, CustomStatNamespaces ns) {
    Optional<String> stripped = ns.stripRegisteredPrefix(tagExtractedName);
    if (stripped.isPresent()) {
      String name = sanitizeName(stripped.get());
      if (name.isEmpty() || Character.isDigit(name.charAt(0))) {
        return Optional.empty();
      }
      return Optional.of(name);
    }
    return Optional.of("envoy_" + sanitizeName(tagExtractedName));
  }

  static String sanitizeName(String name) {
    StringBuilder out = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '_';
      out.append(ok ? c : '_');
    }
    return out.toString();
  }

  /** Label values escaped as Prometheus' text format requires: backslash, newline, quote. */
  static String sanitizeValue(String value) {
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"");
  }

  static String labels(List<Tag> tags) {
    StringBuilder out = new StringBuilder();
    for (Tag t : tags) {
      if (!out.isEmpty()) {
        out.append(',');
      }
      out.append(sanitizeName(t.name())).append("=\"").append(sanitizeValue(t.value())).append('"');
    }
    return out.toString();
  }
}
