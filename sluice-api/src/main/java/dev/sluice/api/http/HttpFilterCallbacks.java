package dev.sluice.api.http;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.concurrent.EventExecutor;
import org.jspecify.annotations.Nullable;

/** What the filter manager offers a filter (Envoy's StreamDecoderFilterCallbacks & co). */
public interface HttpFilterCallbacks {
  StreamInfo streamInfo();

  DownstreamConnection connection();

  /** The worker loop of this stream: timers go here (never block it). */
  EventExecutor eventLoop();

  /** The matched route (resolved lazily and cached), or null when nothing matched. */
  @Nullable Route route();

  /** Forget the cached route, e.g. after changing headers the route depends on. */
  void clearRouteCache();

  /** Resume the request after this filter returned STOP_ITERATION. */
  void continueDecoding();

  /** Resume the response after this filter returned STOP_ITERATION. */
  void continueEncoding();

  /**
   * Answer the request locally (Envoy's sendLocalReply): the response passes the whole encode path
   * (every filter's encode callbacks, this one's included); the rest of the request is discarded.
   *
   * @param details Envoy's response code details, e.g. {@code fault_filter_abort}
   */
  void sendLocalReply(int status, String body, @Nullable ResponseFlag flag, String details);

  /**
   * As {@link #sendLocalReply(int, String, ResponseFlag, String)}, but a gRPC request's
   * trailers-only answer carries {@code grpcStatus} instead of the status mapped from
   * {@code status} (Envoy's sendLocalReply with a grpc_status, e.g. the fault filter's gRPC abort).
   * A non-gRPC request gets the plain reply. The default ignores {@code grpcStatus}.
   */
  default void sendLocalReply(int status, String body, int grpcStatus, @Nullable ResponseFlag flag, String details) {
    sendLocalReply(status, body, flag, details);
  }

  /** Reset the stream (HTTP/2 RST_STREAM, HTTP/1 connection close). */
  void resetStream();

  /**
   * Envoy's requestRouteConfigUpdate (the {@code on_demand} filter): when the stream's route table
   * fetches virtual hosts on demand (VHDS) and none matches the request's authority, asks for it
   * and returns true; {@code done} then runs on the stream's event loop with whether it came, the
   * route cache cleared. False when there is nothing to ask for (the default).
   */
  default boolean requestRouteConfigUpdate(java.util.function.Consumer<Boolean> done) {
    return false;
  }
}
