package dev.sluice.mesh.istio;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.ValidationMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Typed reads from a resource's loaded YAML that record, instead of throwing, every field of the
 * wrong type or shape as an error naming the field path ({@code spec.http[0].timeout}), as
 * istioctl's schema validation reports them. A field in error reads as absent.
 */
final class SpecReader {
  /** Go's {@code time.ParseDuration} syntax, which Istio's YAML durations use ({@code 7s}, {@code 1.5s}, {@code 1m30s}, {@code 100ms}). */
  private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

  private final MeshResource resource;
  private final List<ValidationMessage> messages;

  SpecReader(MeshResource resource, List<ValidationMessage> messages) {
    this.resource = resource;
    this.messages = messages;
  }

  MeshResource resource() {
    return resource;
  }

  void error(String field, String message) {
    messages.add(new ValidationMessage(ValidationMessage.Level.ERROR, resource.source(), resource.key(), field, message));
  }

  void warning(String field, String message) {
    messages.add(new ValidationMessage(ValidationMessage.Level.WARNING, resource.source(), resource.key(), field, message));
  }

  /** Reports keys the schema does not define (istioctl decodes strictly: a typo is an error, not a silent no-op). */
  void onlyKnown(Map<String, Object> map, String path, Set<String> known) {
    for (String key : map.keySet()) {
      if (!known.contains(key)) {
        error(path + "." + key, "unknown field \"" + key + "\"");
      }
    }
  }

  @Nullable String string(Map<String, Object> map, String key, String path) {
    Object v = map.get(key);
    if (v == null) {
      return null;
    }
    if (v instanceof String s) {
      return s;
    }
    error(path + "." + key, "must be a string, not " + describe(v));
    return null;
  }

  @Nullable Integer integer(Map<String, Object> map, String key, String path) {
    Object v = map.get(key);
    if (v == null) {
      return null;
    }
    if (v instanceof Integer i) {
      return i;
    }
    if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
      return l.intValue();
    }
    error(path + "." + key, "must be an integer, not " + describe(v));
    return null;
  }

  @Nullable Double number(Map<String, Object> map, String key, String path) {
    Object v = map.get(key);
    if (v == null) {
      return null;
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    error(path + "." + key, "must be a number, not " + describe(v));
    return null;
  }

  @Nullable Boolean bool(Map<String, Object> map, String key, String path) {
    Object v = map.get(key);
    if (v == null) {
      return null;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    error(path + "." + key, "must be true or false, not " + describe(v));
    return null;
  }

  @Nullable Map<String, Object> map(Map<String, Object> map, String key, String path) {
    Object v = map.get(key);
    if (v == null) {
      return null;
    }
    Map<String, Object> m = asMap(v);
    if (m == null) {
      error(path + "." + key, "must be a mapping, not " + describe(v));
    }
    return m;
  }

  /** A list of mappings; elements of another type are reported and left out. */
  List<Map<String, Object>> mapList(Map<String, Object> map, String key, String path) {
    Object v = map.get(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      error(path + "." + key, "must be a list, not " + describe(v));
      return List.of();
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      Map<String, Object> m = asMap(list.get(i));
      if (m == null) {
        error(path + "." + key + "[" + i + "]", "must be a mapping, not " + describe(list.get(i)));
        out.add(Map.of());
      } else {
        out.add(m);
      }
    }
    return out;
  }

  List<String> stringList(Map<String, Object> map, String key, String path) {
    Object v = map.get(key);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List<?> list)) {
      error(path + "." + key, "must be a list of strings, not " + describe(v));
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i) instanceof String s) {
        out.add(s);
      } else {
        error(path + "." + key + "[" + i + "]", "must be a string, not " + describe(list.get(i)));
      }
    }
    return out;
  }

  /** A mapping of string to string (labels, header values); numbers and booleans are taken as their text, as Kubernetes would reject them but authors write them. */
  Map<String, String> stringMap(Map<String, Object> map, String key, String path) {
    Map<String, Object> m = map(map, key, path);
    if (m == null) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    m.forEach((k, v) -> {
      if (v instanceof String || v instanceof Number || v instanceof Boolean) {
        out.put(k, String.valueOf(v));
      } else {
        error(path + "." + key + "." + k, "must be a string, not " + describe(v));
      }
    });
    return out;
  }

  @Nullable Duration duration(Map<String, Object> map, String key, String path) {
    Object v = map.get(key);
    if (v == null) {
      return null;
    }
    Duration d = v instanceof String s ? parseDuration(s) : null;
    if (d == null) {
      error(path + "." + key, "invalid duration " + (v instanceof String ? "\"" + v + "\"" : describe(v))
          + " (use a number with a unit: 7s, 1.5s, 100ms, 1m)");
    }
    return d;
  }

  /** Go duration syntax; null when malformed or negative. */
  static @Nullable Duration parseDuration(String s) {
    if (s.isEmpty()) {
      return null;
    }
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = DURATION_PART.matcher(s);
    long nanos = 0;
    int at = 0;
    while (at < s.length()) {
      if (!m.find(at) || m.start() != at) {
        return null;
      }
      double n = Double.parseDouble(m.group(1));
      double unitNanos = switch (m.group(2)) {
        case "ns" -> 1;
        case "us", "µs" -> 1e3;
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        default -> 3600e9;
      };
      nanos += Math.round(n * unitNanos);
      at = m.end();
    }
    return Duration.ofNanos(nanos);
  }

  @SuppressWarnings("unchecked")
  static @Nullable Map<String, Object> asMap(@Nullable Object v) {
    if (v instanceof Map<?, ?> m) {
      for (Object k : m.keySet()) {
        if (!(k instanceof String)) {
          return null;
        }
      }
      return (Map<String, Object>) m;
    }
    return null;
  }

  static String describe(@Nullable Object v) {
    if (v instanceof Map<?, ?>) {
      return "a mapping";
    }
    if (v instanceof List<?>) {
      return "a list";
    }
    if (v instanceof String s) {
      return "the string \"" + s + "\"";
    }
    return v == null ? "null" : v.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + " " + v;
  }
}
