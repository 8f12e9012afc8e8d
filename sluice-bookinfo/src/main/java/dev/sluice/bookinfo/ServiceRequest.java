package dev.sluice.bookinfo;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * One request as a Bookinfo service sees it: method, raw (undecoded) path and query, headers keyed
 * by lower-case name, and the body.
 */
public record ServiceRequest(
    String method, String path, @Nullable String rawQuery, Map<String, List<String>> headers, byte[] body) {

  public ServiceRequest {
    headers = lowerCaseKeys(headers);
  }

  /** The first value of a header (names are case-insensitive), or null when absent. */
  public @Nullable String header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.getFirst();
  }

  /** All values of a header, in arrival order. */
  public List<String> headerValues(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null ? List.of() : values;
  }

  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  /** The path split on '/', without the leading empty segment: "/a/b" gives [a, b]. */
  public List<String> segments() {
    String trimmed = path.startsWith("/") ? path.substring(1) : path;
    return trimmed.isEmpty() ? List.of() : List.of(trimmed.split("/", -1));
  }

  private static Map<String, List<String>> lowerCaseKeys(Map<String, List<String>> headers) {
    var copy = new LinkedHashMap<String, List<String>>();
    headers.forEach(
        (name, values) ->
            copy.merge(
                name.toLowerCase(Locale.ROOT),
                List.copyOf(values),
                (a, b) -> Stream.concat(a.stream(), b.stream()).toList()));
    return Collections.unmodifiableMap(copy);
  }
}
