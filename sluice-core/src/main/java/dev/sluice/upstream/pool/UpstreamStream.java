package dev.sluice.upstream.pool;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;

/** One request stream on an upstream connection, handed out by a pool. Worker-loop confined. */
public interface UpstreamStream {
  /** Request headers, HTTP/2-style (pseudo headers {@code :method :path :authority :scheme}). */
  void encodeHeaders(Http2Headers headers, boolean endStream);

  /** Takes ownership of {@code data}. */
  void encodeData(ByteBuf data, boolean endStream);

  void encodeTrailers(Http2Headers trailers);

  /** Cancels the stream (HTTP/2 RST_STREAM; HTTP/1 closes the connection). */
  void reset();

  /** False while the upstream cannot take more request bytes. */
  boolean isWritable();

  /** Pauses or resumes reading the response (backpressure toward the upstream). */
  void setResponseReadEnabled(boolean enabled);

  /** {@code HTTP/1.1} or {@code HTTP/2}. */
  String protocol();

  java.net.InetSocketAddress localAddress();
}
