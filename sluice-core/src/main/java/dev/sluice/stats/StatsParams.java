package dev.sluice.stats;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The query of {@code /stats} and {@code /stats/prometheus}, parsed as Envoy's
 * {@code StatsParams}: {@code usedonly}, {@code filter} (RE2, partial match against the full
 * name), {@code type}, {@code format} and {@code histogram_buckets}.
 */
public record StatsParams(
    boolean usedOnly,
    @Nullable Pattern filter,
    Type type,
    Format format,
    BucketMode histogramBuckets) {

  /** {@code ?type=}, with Envoy's spellings. */
  public enum Type {
    ALL,
    COUNTERS,
    GAUGES,
    HISTOGRAMS,
    TEXT_READOUTS
  }

  public enum Format {
    TEXT,
    JSON,
    PROMETHEUS
  }

  /** {@code ?histogram_buckets=}: quantiles (unset), or bucket counts in one of two views. */
  public enum BucketMode {
    UNSET,
    CUMULATIVE,
    DISJOINT,
    SUMMARY
  }

  /** A query that cannot be served; the message is Envoy's 400 body. */
  public static final class InvalidParamException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidParamException(String message) {
      super(message);
    }
  }

  public static StatsParams defaults() {
    return new StatsParams(false, null, Type.ALL, Format.TEXT, BucketMode.UNSET);
  }

  /** From the first value of each query parameter (a flag such as {@code usedonly} maps to ""). */
  public static StatsParams parse(Map<String, String> query) throws InvalidParamException {
    boolean usedOnly = query.containsKey("usedonly");
    Pattern filter = null;
    String filterText = query.get("filter");
    if (filterText != null) {
      try {
        filter = Pattern.compile(filterText);
      } catch (PatternSyntaxException e) {
        throw new InvalidParamException("Invalid re2 regex");
      }
    }
    BucketMode buckets = BucketMode.UNSET;
    String bucketText = query.get("histogram_buckets");
    if (bucketText != null) {
      buckets = switch (bucketText) {
        case "cumulative" -> BucketMode.CUMULATIVE;
        case "disjoint" -> BucketMode.DISJOINT;
        case "summary" -> BucketMode.SUMMARY;
        case "none" -> BucketMode.UNSET;
        default -> throw new InvalidParamException(
            "usage: /stats?histogram_buckets=(cumulative|disjoint|summary|none)\n");
      };
    }
    Type type = Type.ALL;
    String typeText = query.get("type");
    if (typeText != null) {
      type = switch (typeText) {
        case "All" -> Type.ALL;
        case "Counters" -> Type.COUNTERS;
        case "Gauges" -> Type.GAUGES;
        case "Histograms" -> Type.HISTOGRAMS;
        case "TextReadouts" -> Type.TEXT_READOUTS;
        default -> throw new InvalidParamException("invalid &type= param");
      };
    }
    Format format = Format.TEXT;
    String formatText = query.get("format");
    if (formatText != null) {
      format = switch (formatText) {
        case "text" -> Format.TEXT;
        case "json" -> Format.JSON;
        case "prometheus" -> Format.PROMETHEUS;
        default -> throw new InvalidParamException(
            "usage: /stats?format=(json|prometheus|text)\n\n");
      };
    }
    return new StatsParams(usedOnly, filter, type, format, buckets);
  }

  /** Whether a stat passes the matcher, {@code usedonly} and {@code filter}. */
  public boolean shows(StatsStore.Metric metric) {
    if (metric.hidden() || (usedOnly && !metric.used())) {
      return false;
    }
    return filter == null || filter.matcher(metric.name()).find();
  }

  boolean showsCounters() {
    return type == Type.ALL || type == Type.COUNTERS;
  }

  boolean showsGauges() {
    return type == Type.ALL || type == Type.GAUGES;
  }

  boolean showsHistograms() {
    return type == Type.ALL || type == Type.HISTOGRAMS;
  }
}
