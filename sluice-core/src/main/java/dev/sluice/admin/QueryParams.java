package dev.sluice.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The decoded query of an admin request, in request order. A bare flag ({@code ?usedonly}) has
 * the empty value, as Envoy's query parser gives it.
 */
public final class QueryParams {
  private final Map<String, List<String>> params;

  public QueryParams(Map<String, List<String>> params) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    params.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    this.params = java.util.Collections.unmodifiableMap(copy);
  }

  public static QueryParams empty() {
    return new QueryParams(Map.of());
  }

  public boolean has(String name) {
    return params.containsKey(name);
  }

  public @Nullable String first(String name) {
    List<String> values = params.get(name);
    return values == null || values.isEmpty() ? null : values.getFirst();
  }

  /** Each parameter's first value, in request order. */
  public Map<String, String> firstValues() {
    Map<String, String> out = new LinkedHashMap<>();
    params.forEach((k, v) -> out.put(k, v.isEmpty() ? "" : v.getFirst()));
    return out;
  }

  public Map<String, List<String>> all() {
    return params;
  }

  public boolean isEmpty() {
    return params.isEmpty();
  }

  public int size() {
    return params.size();
  }
}
