package dev.sluice.api.stream;

import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * What is known about one HTTP stream or one TCP connection, for access logs, stats and filters
 * (Envoy's StreamInfo). Owned by the worker event loop that carries the stream: plain fields, no
 * synchronisation. Times are {@link System#nanoTime()} readings except {@link #startTimeEpochMillis}.
 */
public final class StreamInfo {
  public long startTimeEpochMillis;
  public long startNanos;
  /** nanoTime when the last downstream request byte arrived, or 0. */
  public long lastDownstreamRxNanos;
  /** nanoTime of the first upstream response byte, or 0. */
  public long firstUpstreamRxNanos;
  /** nanoTime when the last byte was sent downstream, or 0. */
  public long lastDownstreamTxNanos;
  /** nanoTime when the upstream request was fully sent, or 0. */
  public long lastUpstreamTxNanos;
  /** nanoTime when the stream ended (completed or reset), or 0 while it runs. */
  public long endNanos;

  public @Nullable Http2Headers requestHeaders;
  public @Nullable Http2Headers responseHeaders;
  public @Nullable Http2Headers responseTrailers;
  /** The HTTP status sent downstream, or 0 for none (reset before headers, or TCP). */
  public int responseCode;
  /** Envoy's {@code %RESPONSE_CODE_DETAILS%}, e.g. {@code via_upstream}, {@code route_not_found}. */
  public @Nullable String responseCodeDetails;
  /** Bit set over {@link ResponseFlag#ordinal()}. */
  public long responseFlags;

  public long bytesReceived;
  public long bytesSent;
  public long upstreamBytesSent;
  public long upstreamBytesReceived;

  /** {@code HTTP/1.1}, {@code HTTP/2}, or null for TCP. */
  public @Nullable String protocol;
  public @Nullable String requestId;
  public @Nullable String routeName;
  public @Nullable String upstreamCluster;
  /** The upstream host as {@code ip:port}. */
  public @Nullable String upstreamHost;
  public @Nullable InetSocketAddress upstreamLocalAddress;
  public @Nullable String upstreamTransportFailureReason;
  public @Nullable String connectionTerminationDetails;

  public @Nullable InetSocketAddress downstreamRemoteAddress;
  /** The remote address after x-forwarded-for processing (Envoy's "downstream remote address"). */
  public @Nullable InetSocketAddress downstreamDirectRemoteAddress;
  public @Nullable InetSocketAddress downstreamLocalAddress;
  public @Nullable String requestedServerName;
  public long connectionId;
  public int attemptCount;

  public StreamInfo(long startTimeEpochMillis, long startNanos) {
    this.startTimeEpochMillis = startTimeEpochMillis;
    this.startNanos = startNanos;
  }

  public static StreamInfo startNow() {
    return new StreamInfo(System.currentTimeMillis(), System.nanoTime());
  }

  public void setFlag(ResponseFlag flag) {
    responseFlags |= 1L << flag.ordinal();
  }

  public boolean hasFlag(ResponseFlag flag) {
    return (responseFlags & (1L << flag.ordinal())) != 0;
  }

  /** Whole-stream duration in nanoseconds, or -1 while the stream runs. */
  public long durationNanos() {
    return endNanos == 0 ? -1 : endNanos - startNanos;
  }
}
