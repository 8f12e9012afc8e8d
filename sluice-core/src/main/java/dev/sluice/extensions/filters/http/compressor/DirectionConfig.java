package dev.sluice.extensions.filters.http.compressor;

import io.netty.handler.codec.http2.Http2Headers;
import java.util.Locale;
import java.util.Set;

/**
 * What both directions check before compressing (Envoy's CommonDirectionConfig).
 *
 * @param enabled {@code enabled.default_value} (true when unset; runtime keys are not read)
 * @param minContentLength {@code min_content_length}, 30 unless set
 * @param contentTypes media types (lower case, no parameters) that may be compressed
 */
record DirectionConfig(boolean enabled, long minContentLength, Set<String> contentTypes, DirectionStats stats) {
  /**
   * Envoy's defaults when {@code content_type} is empty: the documented eight and their synonyms.
   */
  static final Set<String> DEFAULT_CONTENT_TYPES = Set.of(
      "application/javascript", "application/json", "application/xhtml+xml", "image/svg+xml",
      "text/css", "text/html", "text/plain", "text/xml",
      "application/x-javascript", "text/javascript", "text/x-javascript", "text/ecmascript",
      "text/js", "text/jscript", "text/x-js", "application/ecmascript", "application/x-json",
      "application/xml");

  DirectionConfig {
    contentTypes = Set.copyOf(contentTypes);
  }

  /**
   * A known {@code content-length} must reach the minimum (else {@code content_length_too_small});
   * a body of unknown length (chunked, HTTP/2) may be compressed.
   */
  boolean longEnough(Http2Headers headers) {
    CharSequence length = headers.get("content-length");
    if (length == null) {
      return true;
    }
    long n;
    try {
      n = Long.parseLong(length.toString().trim());
    } catch (NumberFormatException e) {
      n = -1;
    }
    if (n < minContentLength) {
      stats.contentLengthTooSmall.inc();
      return false;
    }
    return true;
  }

  /** No {@code content-type} is allowed; otherwise its media type must be listed. */
  boolean contentTypeAllowed(Http2Headers headers) {
    CharSequence type = headers.get("content-type");
    if (type == null) {
      return true;
    }
    String value = type.toString();
    int semi = value.indexOf(';');
    String media = (semi < 0 ? value : value.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    return contentTypes.contains(media);
  }
}
