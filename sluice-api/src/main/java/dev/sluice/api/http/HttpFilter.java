package dev.sluice.api.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * A per-stream HTTP filter (Envoy's StreamFilter). Requests pass the chain in order (decode),
 * responses in reverse (encode). Headers are HTTP/2-style whatever the codec: pseudo-headers
 * {@code :method :scheme :authority :path} on requests, {@code :status} on responses, lower-case
 * names. Bodies are reference-counted buffers the filter does not own unless it says so by
 * returning a STOP status and retaining them.
 */
public interface HttpFilter {
  /** Called once before any other method. */
  default void setCallbacks(HttpFilterCallbacks callbacks) {}

  default FilterStatus decodeHeaders(Http2Headers headers, boolean endStream) {
    return FilterStatus.CONTINUE;
  }

  default FilterStatus decodeData(ByteBuf data, boolean endStream) {
    return FilterStatus.CONTINUE;
  }

  default FilterStatus decodeTrailers(Http2Headers trailers) {
    return FilterStatus.CONTINUE;
  }

  default FilterStatus encodeHeaders(Http2Headers headers, boolean endStream) {
    return FilterStatus.CONTINUE;
  }

  default FilterStatus encodeData(ByteBuf data, boolean endStream) {
    return FilterStatus.CONTINUE;
  }

  default FilterStatus encodeTrailers(Http2Headers trailers) {
    return FilterStatus.CONTINUE;
  }

  /** The stream is over (completed or reset); cancel timers, release what was retained. */
  default void onDestroy() {}
}
