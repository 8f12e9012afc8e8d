package dev.sluice.rbac;

import com.google.protobuf.Value;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import java.util.List;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code envoy.type.matcher.v3.MetadataMatcher}: the dynamic metadata value at
 * {@code filter} / {@code path} against {@code value}, XOR {@code invert}. RBAC's {@code metadata}
 * principals and ext_authz's {@code filter_enabled_metadata} use it.
 */
public final class MetadataMatcherPredicate {
  private final String filter;
  private final List<String> path;
  private final Predicate<@Nullable Value> value;
  private final boolean invert;

  private MetadataMatcherPredicate(String filter, List<String> path, Predicate<@Nullable Value> value, boolean invert) {
    this.filter = filter;
    this.path = path;
    this.value = value;
    this.invert = invert;
  }

  /** @param fieldPath the matcher's config path, for errors */
  public static MetadataMatcherPredicate compile(MetadataMatcher m, String fieldPath) {
    if (m.getFilter().isEmpty()) {
      throw new ConfigException(fieldPath + ".filter", "value length must be at least 1 characters");
    }
    if (m.getPathCount() == 0) {
      throw new ConfigException(fieldPath + ".path", "value must contain at least 1 item(s)");
    }
    if (!m.hasValue()) {
      throw new ConfigException(fieldPath + ".value", "value is required");
    }
    List<String> keys = m.getPathList().stream().map(MetadataMatcher.PathSegment::getKey).toList();
    return new MetadataMatcherPredicate(m.getFilter(), keys, MetadataValueMatcher.compile(m.getValue(), fieldPath + ".value"), m.getInvert());
  }

  public String filter() {
    return filter;
  }

  public List<String> path() {
    return path;
  }

  /** True when the value found (null when absent) matches, inverted by {@code invert}. */
  public boolean matches(@Nullable Value found) {
    return value.test(found) != invert;
  }
}
