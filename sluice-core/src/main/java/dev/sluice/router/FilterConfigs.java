package dev.sluice.router;

import com.google.protobuf.Any;
import java.util.LinkedHashMap;
import java.util.Map;

/** Compiles one level's {@code typed_per_filter_config} map through the compile context. */
final class FilterConfigs {
  private FilterConfigs() {}

  static Map<String, Object> compile(Map<String, Any> typed, String fieldPath, RouteCompileContext ctx) {
    if (typed.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    // Sorted so that errors are reported deterministically.
    typed.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e ->
                out.put(
                    e.getKey(),
                    ctx.compileFilterConfig(
                        e.getKey(), e.getValue(), (fieldPath.isEmpty() ? "" : fieldPath + ".") + "typed_per_filter_config[" + e.getKey() + "]")));
    return Map.copyOf(out);
  }
}
