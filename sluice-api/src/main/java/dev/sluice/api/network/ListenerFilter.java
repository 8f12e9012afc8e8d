package dev.sluice.api.network;

import io.netty.buffer.ByteBuf;

/**
 * Runs on an accepted connection before a filter chain is chosen (Envoy listener filter): may
 * restore the original destination, or peek at the first bytes to learn SNI, ALPN or the HTTP
 * version. Peeked bytes are not consumed; the chosen filter chain sees them all.
 */
public interface ListenerFilter {
  /** Called once, right after accept. */
  default Status onAccept(DownstreamConnection connection) {
    return Status.CONTINUE;
  }

  /** How many bytes this filter wants to peek at, at most; 0 if it does not read data. */
  default int maxReadBytes() {
    return 0;
  }

  /**
   * Called with everything received so far (readable bytes from index 0, not to be consumed), each
   * time more arrives, until the filter answers other than {@link Status#NEED_MORE_DATA}.
   *
   * @param endOfStream the peer closed its side: no more bytes will come
   */
  default Status onData(ByteBuf peeked, DownstreamConnection connection, boolean endOfStream) {
    return Status.CONTINUE;
  }

  enum Status {
    CONTINUE,
    NEED_MORE_DATA,
    /** Close the connection (counted by the listener as a listener-filter rejection). */
    CLOSE
  }
}
