package dev.sluice.upstream.pool;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import org.jspecify.annotations.Nullable;

/** What an upstream stream reports back to its owner (the router), on the worker loop. */
public interface UpstreamResponseCallbacks {
  /** Response headers, HTTP/2-style ({@code :status}, lower-case names, no hop-by-hop headers). */
  void onUpstreamHeaders(Http2Headers headers, boolean endStream);

  /** Takes ownership of {@code data}. */
  void onUpstreamData(ByteBuf data, boolean endStream);

  void onUpstreamTrailers(Http2Headers trailers);

  /** The stream died before completing (after {@link PoolCallbacks#onPoolReady}). */
  void onUpstreamReset(ResetReason reason, @Nullable String details);

  /** The upstream can (or cannot) take more request bytes. */
  void onUpstreamWritabilityChanged(boolean writable);

  /** A protocol upgrade was accepted (101): from now on data is the raw tunnel. */
  default void onUpstreamUpgraded() {}
}
