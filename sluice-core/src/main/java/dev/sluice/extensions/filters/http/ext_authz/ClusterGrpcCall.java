package dev.sluice.extensions.filters.http.ext_authz;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.upstream.pool.ConnectionPool;
import dev.sluice.upstream.pool.ConnectionPools;
import dev.sluice.upstream.pool.PoolCallbacks;
import dev.sluice.upstream.pool.ResetReason;
import dev.sluice.upstream.pool.UpstreamResponseCallbacks;
import dev.sluice.upstream.pool.UpstreamStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One unary gRPC call (Envoy's {@code envoy_grpc} async client) over the server's own upstream
 * HTTP/2 pools, on the calling stream's worker loop: a host is picked by the cluster's load
 * balancer, the request is one length-prefixed message, and the answer is the single response
 * message when {@code grpc-status} is 0. Every other outcome (no cluster, no host, connect failure,
 * reset, timeout, non-zero status, malformed body) is a failure with a reason.
 */
final class ClusterGrpcCall<R extends Message> implements PoolCallbacks, UpstreamResponseCallbacks {
  /** Beyond this a response is refused: authorization answers are small. */
  static final int MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

  interface Listener<R> {
    void onResponse(R response);

    void onFailure(String reason);
  }

  private final GrpcTarget target;
  private final Parser<R> parser;
  private final Listener<R> listener;
  private final Message request;
  private ConnectionPool.@Nullable Cancellable pending;
  private @Nullable UpstreamStream stream;
  private @Nullable ScheduledFuture<?> timer;
  private @Nullable CompositeByteBuf body;
  private boolean done;

  private ClusterGrpcCall(GrpcTarget target, Message request, Parser<R> parser, Listener<R> listener) {
    this.target = target;
    this.request = request;
    this.parser = parser;
    this.listener = listener;
  }

  /** Starts the call on {@code connection}'s worker loop; the listener may hear before this returns. */
  static <R extends Message> ClusterGrpcCall<R> start(
      GrpcTarget target, DownstreamConnection connection, EventExecutor loop, Message request, Parser<R> parser, Listener<R> listener) {
    ClusterGrpcCall<R> call = new ClusterGrpcCall<>(target, request, parser, listener);
    call.begin(connection, loop);
    return call;
  }

  private void begin(DownstreamConnection connection, EventExecutor loop) {
    Cluster cluster = target.clusters().get(target.clusterName());
    if (cluster == null) {
      fail("cluster not found: " + target.clusterName());
      return;
    }
    Host host = cluster.loadBalancer(connection.workerIndex).chooseHost(LoadBalancerContext.NONE);
    if (host == null) {
      fail("no healthy upstream in " + target.clusterName());
      return;
    }
    if (target.timeoutNanos() > 0) {
      timer = loop.schedule(() -> fail("timeout"), target.timeoutNanos(), TimeUnit.NANOSECONDS);
    }
    ConnectionPool pool = target.pools().get(connection.workerIndex, host, ConnectionPools.Protocol.HTTP2, connection::newUpstreamBootstrap);
    ConnectionPool.@Nullable Cancellable c = pool.newStream(this, this);
    if (!done) {
      pending = c;
    } else if (c != null) {
      c.cancel();
    }
  }

  /** Abandons the call (the downstream stream ended first); the listener hears nothing more. */
  void cancel() {
    if (!done) {
      done = true;
      cleanUp();
    }
  }

  @Override
  public void onPoolReady(UpstreamStream s, Host host) {
    pending = null;
    if (done) {
      s.reset();
      return;
    }
    stream = s;
    Http2Headers headers = new DefaultHttp2Headers()
        .method("POST")
        .scheme("http")
        .path(target.path())
        .authority(target.authority())
        .set("content-type", "application/grpc")
        .set("te", "trailers");
    if (target.timeoutNanos() > 0) {
      headers.set("grpc-timeout", Math.max(1, TimeUnit.NANOSECONDS.toMillis(target.timeoutNanos())) + "m");
    }
    byte[] message = request.toByteArray();
    ByteBuf frame = Unpooled.buffer(5 + message.length).writeByte(0).writeInt(message.length).writeBytes(message);
    s.encodeHeaders(headers, false);
    s.encodeData(frame, true);
  }

  @Override
  public void onPoolFailure(ResetReason reason, String details, Host host) {
    pending = null;
    fail("upstream connect failure: " + reason + (details.isEmpty() ? "" : " " + details));
  }

  @Override
  public void onUpstreamHeaders(Http2Headers headers, boolean endStream) {
    if (done) {
      return;
    }
    CharSequence status = headers.status();
    if (status == null || !"200".contentEquals(status)) {
      fail("upstream answered HTTP status " + status);
      return;
    }
    if (endStream) {
      // Trailers-only: grpc-status in the headers.
      finish(headers);
    }
  }

  @Override
  public void onUpstreamData(ByteBuf data, boolean endStream) {
    if (done) {
      data.release();
      return;
    }
    CompositeByteBuf b = body;
    if (b == null) {
      b = data.alloc().compositeBuffer();
      body = b;
    }
    if (b.readableBytes() + data.readableBytes() > MAX_RESPONSE_BYTES) {
      data.release();
      fail("response larger than " + MAX_RESPONSE_BYTES + " bytes");
      return;
    }
    b.addComponent(true, data);
    if (endStream) {
      finish(null);
    }
  }

  @Override
  public void onUpstreamTrailers(Http2Headers trailers) {
    if (!done) {
      finish(trailers);
    }
  }

  @Override
  public void onUpstreamReset(ResetReason reason, @Nullable String details) {
    stream = null;
    fail("upstream reset: " + reason + (details == null ? "" : " " + details));
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {}

  /** The response stream has ended (nothing left to reset): decode the outcome. */
  private void finish(@Nullable Http2Headers trailers) {
    stream = null;
    CharSequence grpcStatus = trailers == null ? null : trailers.get("grpc-status");
    if (grpcStatus == null) {
      fail("no grpc-status");
      return;
    }
    if (!"0".contentEquals(grpcStatus)) {
      CharSequence message = trailers.get("grpc-message");
      fail("grpc-status " + grpcStatus + (message == null ? "" : " " + message));
      return;
    }
    CompositeByteBuf b = body;
    if (b == null || b.readableBytes() < 5 || b.getByte(b.readerIndex()) != 0
        || b.getInt(b.readerIndex() + 1) != b.readableBytes() - 5) {
      fail("malformed gRPC response body");
      return;
    }
    R response;
    try {
      response = parser.parseFrom(b.nioBuffer(b.readerIndex() + 5, b.readableBytes() - 5));
    } catch (InvalidProtocolBufferException e) {
      fail("malformed response message: " + e.getMessage());
      return;
    }
    done = true;
    cleanUp();
    listener.onResponse(response);
  }

  private void fail(String reason) {
    if (done) {
      return;
    }
    done = true;
    cleanUp();
    listener.onFailure(reason);
  }

  private void cleanUp() {
    ScheduledFuture<?> t = timer;
    if (t != null) {
      t.cancel(false);
      timer = null;
    }
    ConnectionPool.@Nullable Cancellable p = pending;
    if (p != null) {
      pending = null;
      p.cancel();
    }
    UpstreamStream s = stream;
    if (s != null) {
      stream = null;
      s.reset();
    }
    CompositeByteBuf b = body;
    if (b != null) {
      body = null;
      b.release();
    }
  }
}
