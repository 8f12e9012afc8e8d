package dev.sluice.extensions.filters.http.router;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.router.MirrorPolicy;
import dev.sluice.upstream.pool.ConnectionPool;
import dev.sluice.upstream.pool.ConnectionPools;
import dev.sluice.upstream.pool.PoolCallbacks;
import dev.sluice.upstream.pool.ResetReason;
import dev.sluice.upstream.pool.UpstreamResponseCallbacks;
import dev.sluice.upstream.pool.UpstreamStream;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A fire-and-forget copy of a request to a mirror cluster (Envoy's ShadowWriter): its own host
 * pick and pool stream on the same worker, the main request's timeout, and its response thrown
 * away. Nothing here touches the downstream stream, so a mirror that fails, hangs or is slow can
 * neither delay nor fail the request it copies. It counts the usual {@code cluster.<mirror>.*}
 * upstream stats, as Envoy's shadow requests do.
 */
final class ShadowRequest implements PoolCallbacks, UpstreamResponseCallbacks {
  private final ClusterInfo cluster;
  private final Host host;
  private final Http2Headers headers;
  private @Nullable ByteBuf body;
  private final @Nullable Http2Headers trailers;
  private ConnectionPool.@Nullable Cancellable pendingPool;
  private @Nullable UpstreamStream stream;
  private @Nullable ScheduledFuture<?> timer;
  private boolean holdsRequest;
  private boolean done;

  private ShadowRequest(ClusterInfo cluster, Host host, Http2Headers headers, @Nullable ByteBuf body,
      @Nullable Http2Headers trailers) {
    this.cluster = cluster;
    this.host = host;
    this.headers = headers;
    this.body = body;
    this.trailers = trailers;
  }

  /**
   * Sends a copy of the finished request to {@code clusterName}; does nothing when that cluster
   * does not exist or has no host (Envoy only logs it).
   *
   * @param body the whole request body (a retained duplicate this call takes over), or null
   */
  static void send(RouterConfig config, DownstreamConnection connection, String downstreamProtocol,
      MirrorPolicy policy, String clusterName, Http2Headers requestHeaders, @Nullable ByteBuf body,
      @Nullable Http2Headers trailers, long timeoutNanos) {
    Cluster c = config.clusters().get(clusterName);
    Host h = null;
    Http2Headers copy = null;
    if (c != null) {
      copy = new DefaultHttp2Headers(false, requestHeaders.size()).add(requestHeaders);
      CharSequence authority = copy.authority();
      if (!policy.disableShadowHostSuffixAppend() && authority != null && authority.length() > 0) {
        copy.authority(MirrorPolicy.shadowAuthority(authority));
      }
      h = c.loadBalancer(connection.workerIndex).chooseHost(new ShadowContext(copy));
    }
    if (c == null || h == null || copy == null) {
      if (body != null) {
        body.release();
      }
      return;
    }
    ShadowRequest shadow = new ShadowRequest(c.info(), h, copy, body, trailers);
    ConnectionPool pool = config.pools().get(connection.workerIndex, h,
        RouterFilter.protocolFor(c.info(), downstreamProtocol, copy), connection::newUpstreamBootstrap);
    ClusterInfo ci = c.info();
    ci.stats().upstreamRqTotal.inc();
    ci.stats().upstreamRqActive.inc();
    h.stats().rqTotal.increment();
    h.stats().rqActive.incrementAndGet();
    if (timeoutNanos > 0) {
      shadow.timer = connection.channel.eventLoop().schedule(shadow::onTimeout, timeoutNanos, TimeUnit.NANOSECONDS);
    }
    ConnectionPool.Cancellable p = pool.newStream(shadow, shadow);
    if (!shadow.done && shadow.stream == null) {
      shadow.pendingPool = p;
    }
  }

  /** What the mirror's load balancer sees: the copied headers only. */
  private record ShadowContext(Http2Headers headers) implements LoadBalancerContext {
    @Override
    public Http2Headers downstreamHeaders() {
      return headers;
    }
  }

  @Override
  public void onPoolReady(UpstreamStream s, Host h) {
    pendingPool = null;
    if (done) {
      s.reset();
      return;
    }
    stream = s;
    holdsRequest = true;
    cluster.resourceManager().requests().inc();
    ByteBuf b = body;
    body = null;
    boolean hasBody = b != null && b.isReadable();
    s.encodeHeaders(headers, !hasBody && trailers == null);
    if (b != null) {
      if (hasBody) {
        s.encodeData(b, trailers == null);
      } else {
        b.release();
      }
    }
    if (trailers != null) {
      s.encodeTrailers(trailers);
    }
  }

  @Override
  public void onPoolFailure(ResetReason reason, String details, Host h) {
    pendingPool = null;
    end();
  }

  @Override
  public void onUpstreamHeaders(Http2Headers response, boolean endStream) {
    if (done) {
      return;
    }
    int status = RouterFilter.parseStatus(response);
    cluster.stats().responseClass(status).inc();
    cluster.stats().responseCode(status).inc();
    host.outlierMonitor().putHttpResponseCode(status);
    if (status >= 500) {
      host.stats().rqError.increment();
    } else {
      host.stats().rqSuccess.increment();
    }
    if (endStream) {
      completed();
    }
  }

  @Override
  public void onUpstreamData(ByteBuf data, boolean endStream) {
    data.release();
    if (endStream) {
      completed();
    }
  }

  @Override
  public void onUpstreamTrailers(Http2Headers t) {
    completed();
  }

  @Override
  public void onUpstreamReset(ResetReason reason, @Nullable String details) {
    if (!done) {
      stream = null;
      cluster.stats().upstreamRqRxReset.inc();
      end();
    }
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    // The whole copy was written at once; nothing waits on the mirror's writability.
  }

  private void completed() {
    if (!done) {
      cluster.stats().upstreamRqCompleted.inc();
      end();
    }
  }

  private void onTimeout() {
    timer = null;
    if (done) {
      return;
    }
    cluster.stats().upstreamRqTimeout.inc();
    host.stats().rqTimeout.increment();
    ConnectionPool.Cancellable p = pendingPool;
    UpstreamStream s = stream;
    pendingPool = null;
    stream = null;
    end();
    if (p != null) {
      p.cancel();
    }
    if (s != null) {
      cluster.stats().upstreamRqTxReset.inc();
      s.reset();
    }
  }

  private void end() {
    if (done) {
      return;
    }
    done = true;
    ScheduledFuture<?> t = timer;
    timer = null;
    if (t != null) {
      t.cancel(false);
    }
    if (body != null) {
      body.release();
      body = null;
    }
    cluster.stats().upstreamRqActive.dec();
    host.stats().rqActive.decrementAndGet();
    if (holdsRequest) {
      holdsRequest = false;
      cluster.resourceManager().requests().dec();
    }
  }
}
