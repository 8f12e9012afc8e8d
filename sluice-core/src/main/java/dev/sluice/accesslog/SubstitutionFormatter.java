package dev.sluice.accesslog;

import dev.sluice.api.stream.StreamInfo;

/**
 * Envoy's substitution format strings ({@code %REQ(:path)%}, {@code %RESPONSE_CODE%}...), used by
 * access logs and by header values in routes ({@code request_headers_to_add}).
 * PLACEHOLDER: literal text only; the access-log work replaces this with the real compiler.
 */
public interface SubstitutionFormatter {
  /** Compiles a format string once (config time). @throws dev.sluice.api.config.ConfigException */
  static SubstitutionFormatter compile(String format) {
    return info -> format;
  }

  /** Renders for one stream (worker thread; cheap, no I/O). */
  String format(StreamInfo info);
}
