package dev.sluice.http;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;

/** Envoy's HTTP/2 codec stats ({@code http2.*}, in the listener's root scope, not per HCM prefix). */
public final class Http2CodecStats {
  /** A request's headers exceeded max_request_headers_kb: the stream was reset. */
  public final Counter headerOverflow;
  public final Counter rxReset;
  public final Counter txReset;
  /** A malformed message (RFC 9113 8.1.1): the stream or the connection was refused. */
  public final Counter rxMessagingError;

  /** @param root the scope {@code http2.} is created under */
  public Http2CodecStats(StatsScope root) {
    StatsScope s = root.scope("http2.");
    headerOverflow = s.counter("header_overflow");
    rxReset = s.counter("rx_reset");
    txReset = s.counter("tx_reset");
    rxMessagingError = s.counter("rx_messaging_error");
  }
}
