package dev.sluice.stats;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.metrics.v3.HistogramBucketSettings;
import io.envoyproxy.envoy.config.metrics.v3.StatsConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@code stats_config.histogram_bucket_settings}: the bucket bounds of each histogram, the first
 * matching setting winning, Envoy's defaults otherwise.
 */
public final class HistogramBuckets {
  private record Setting(Predicate<String> match, List<Double> buckets) {}

  private final List<Setting> settings;

  private HistogramBuckets(List<Setting> settings) {
    this.settings = List.copyOf(settings);
  }

  public static HistogramBuckets defaults() {
    return new HistogramBuckets(List.of());
  }

  /** Field paths in errors are relative to {@code stats_config}. */
  public static HistogramBuckets fromConfig(StatsConfig config) {
    List<Setting> out = new ArrayList<>();
    for (int i = 0; i < config.getHistogramBucketSettingsCount(); i++) {
      HistogramBucketSettings s = config.getHistogramBucketSettings(i);
      String path = "histogram_bucket_settings[" + i + "]";
      Predicate<String> match;
      try {
        match = StatNameMatcher.compile(s.getMatch());
      } catch (ConfigException e) {
        throw e.under(path + ".match");
      }
      List<Double> buckets = s.getBucketsList().stream().sorted().distinct().toList();
      if (buckets.isEmpty() || buckets.getFirst() <= 0) {
        throw new ConfigException(path + ".buckets", "buckets must be non-empty and positive");
      }
      out.add(new Setting(match, buckets));
    }
    return new HistogramBuckets(out);
  }

  public List<Double> bucketsFor(String name) {
    for (Setting s : settings) {
      if (s.match().test(name)) {
        return s.buckets();
      }
    }
    return HistogramStatistics.DEFAULT_BUCKETS;
  }
}
