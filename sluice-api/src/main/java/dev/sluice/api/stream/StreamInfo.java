package dev.sluice.api.stream;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  /** Envoy's dynamic metadata: a Struct per filter namespace; null until a filter sets some. */
  private @Nullable Map<String, Struct> dynamicMetadata;

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

  /**
   * Merges {@code fields} into the namespace {@code filter}, as Envoy's {@code setDynamicMetadata}:
   * a key already there is replaced, the others stay.
   */
  public void setDynamicMetadata(String filter, Struct fields) {
    Map<String, Struct> all = dynamicMetadata;
    if (all == null) {
      all = new LinkedHashMap<>();
      dynamicMetadata = all;
    }
    Struct previous = all.get(filter);
    all.put(filter, previous == null ? fields : previous.toBuilder().putAllFields(fields.getFieldsMap()).build());
  }

  /** All dynamic metadata, as Envoy's {@code envoy.config.core.v3.Metadata} (empty when none). */
  public Metadata dynamicMetadata() {
    Map<String, Struct> all = dynamicMetadata;
    return all == null ? Metadata.getDefaultInstance() : Metadata.newBuilder().putAllFilterMetadata(all).build();
  }

  /**
   * The value at {@code path} inside namespace {@code filter} (each key but the last naming a nested
   * struct), or null when absent: what Envoy's {@code MetadataMatcher} looks at.
   */
  public @Nullable Value dynamicMetadataValue(String filter, List<String> path) {
    Map<String, Struct> all = dynamicMetadata;
    Struct struct = all == null ? null : all.get(filter);
    if (struct == null || path.isEmpty()) {
      return null;
    }
    for (int i = 0; i < path.size() - 1; i++) {
      Value v = struct.getFieldsMap().get(path.get(i));
      if (v == null || !v.hasStructValue()) {
        return null;
      }
      struct = v.getStructValue();
    }
    return struct.getFieldsMap().get(path.getLast());
  }
}
