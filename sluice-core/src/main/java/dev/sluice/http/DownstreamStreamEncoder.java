package dev.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * The codec's side of one downstream stream (HTTP/1.1 connection or HTTP/2 stream): where the
 * response is written and how request reading is paused. Called on the connection's event loop.
 */
public interface DownstreamStreamEncoder {
  void encodeHeaders(Http2Headers headers, boolean endStream);

  /** Writes (and takes ownership of) {@code data}. */
  void encodeData(ByteBuf data, boolean endStream);

  void encodeTrailers(Http2Headers trailers);

  /** Aborts the stream: RST_STREAM on HTTP/2, closing the connection on HTTP/1. */
  void resetStream();

  /** False while the downstream cannot take more response bytes (high watermark). */
  boolean isWritable();

  /**
   * Pauses or resumes reading the request body (backpressure toward the client): HTTP/1 stops
   * reading the socket, HTTP/2 stops returning flow-control window for this stream.
   */
  void setRequestReadEnabled(boolean enabled);

  /** {@code HTTP/1.1}, {@code HTTP/1.0} or {@code HTTP/2}. */
  String protocol();

  /** True when the request came over TLS (the {@code :scheme} the client used is https). */
  boolean secure();
}
