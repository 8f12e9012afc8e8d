package dev.sluice.accesslog;

import dev.sluice.api.stream.StreamInfo;

/**
 * Envoy's substitution format strings ({@code %REQ(:path)%}, {@code %RESPONSE_CODE%}...), used by
 * access logs and by header values in routes ({@code request_headers_to_add}). Compiled once into
 * segments; rendering walks them into one builder, without regular expressions or map lookups.
 */
public interface SubstitutionFormatter {
  /**
   * Compiles a format string once (config time). Absent values render as {@code -}.
   *
   * @throws dev.sluice.api.config.ConfigException with an empty field path (callers prefix it
   *     with {@link dev.sluice.api.config.ConfigException#under}) for an unknown operator or a
   *     malformed command
   */
  static SubstitutionFormatter compile(String format) {
    return new TextFormatter(FormatTemplate.parse(format), false);
  }

  /** As {@link #compile(String)}; with {@code omitEmptyValues} absent values render as "". */
  static SubstitutionFormatter compile(String format, boolean omitEmptyValues) {
    return new TextFormatter(FormatTemplate.parse(format), omitEmptyValues);
  }

  /** Renders for one stream (worker thread; cheap, no I/O). */
  String format(StreamInfo info);
}
