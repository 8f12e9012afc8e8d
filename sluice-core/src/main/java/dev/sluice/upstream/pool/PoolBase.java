package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.ClusterStats;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.OutlierMonitor;
import dev.sluice.api.upstream.ResourceManager;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import dev.sluice.tls.UpstreamTransportSocket;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.unix.DomainSocketAddress;
import dev.sluice.listener.Workers;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * What the HTTP/1 and HTTP/2 pools share: the pending queue with its circuit breaker, connecting
 * within the connection limit, and the cluster/host connection stats.
 */
abstract class PoolBase implements ConnectionPool {
  protected final Host host;
  protected final ClusterInfo cluster;
  protected final ClusterStats stats;
  protected final ResourceManager resources;
  private final Bootstrap bootstrap;
  protected final ArrayDeque<Pending> pending = new ArrayDeque<>();
  protected int connecting;
  protected boolean draining;

  private final @Nullable UpstreamTransportSocket tls;
  private final UpstreamTransportSocket.Alpn alpn;
  /** {@code max_connection_duration} in nanoseconds, 0 for none, and its counter. */
  private final long maxConnectionDurationNanos;
  private final dev.sluice.api.stats.@Nullable Counter maxDurationReached;
  /** {@code upstream_connection_options.tcp_keepalive}, or null. */
  private final io.envoyproxy.envoy.config.core.v3.@Nullable TcpKeepalive keepalive;

  /** @param resources the circuit breakers of the routing priority this pool serves */
  PoolBase(Host host, Bootstrap bootstrap, @Nullable UpstreamTransportSocket tls,
      UpstreamTransportSocket.Alpn alpn, ResourceManager resources) {
    this.host = host;
    this.tls = tls;
    this.alpn = alpn;
    this.cluster = host.cluster();
    this.stats = cluster.stats();
    this.resources = resources;
    this.keepalive = cluster.config().getUpstreamConnectionOptions().hasTcpKeepalive()
        ? cluster.config().getUpstreamConnectionOptions().getTcpKeepalive() : null;
    if (cluster instanceof dev.sluice.upstream.ClusterInfoImpl info && info.upstreamCxMaxDurationReached() != null) {
      this.maxConnectionDurationNanos = info.maxConnectionDuration().toNanos();
      this.maxDurationReached = info.upstreamCxMaxDurationReached();
    } else {
      this.maxConnectionDurationNanos = 0;
      this.maxDurationReached = null;
    }
    int limit = cluster.perConnectionBufferLimitBytes();
    this.bootstrap = bootstrap.clone()
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, cluster.connectTimeout().toMillis()))
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(Math.max(1, limit / 2), Math.max(2, limit)));
  }

  @Override
  public Host host() {
    return host;
  }

  /** A request waiting for a connection or a stream slot. */
  final class Pending implements Cancellable {
    final PoolCallbacks callbacks;
    final UpstreamResponseCallbacks response;
    final long enqueuedNanos = System.nanoTime();
    /** The pool whose queue holds it: an AUTO pool moves waiting requests to the protocol's pool. */
    PoolBase owner = PoolBase.this;
    boolean cancelled;

    Pending(PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
      this.callbacks = callbacks;
      this.response = response;
    }

    @Override
    public void cancel() {
      if (!cancelled) {
        cancelled = true;
        owner.pending.remove(this);
        resources.pendingRequests().dec();
        stats.upstreamRqPendingActive.dec();
        stats.upstreamRqCancelled.inc();
        owner.onPendingCancelled();
      }
    }
  }

  /**
   * Moves {@code from}'s waiting requests to the end of this queue. Both pools serve the same host,
   * so the cluster's pending counters and circuit breaker stay as they are.
   */
  protected void takePending(PoolBase from) {
    Pending p;
    while ((p = from.pending.poll()) != null) {
      p.owner = this;
      pending.add(p);
    }
  }

  /**
   * The cluster's {@code max_requests} circuit breaker: when it is open, fails the request with
   * OVERFLOW (flag UO) and counts it as Envoy does ({@code upstream_rq_pending_overflow}).
   */
  protected boolean requestsOverflow(PoolCallbacks callbacks) {
    // The router takes its requests() slot once the pool hands it a stream (Envoy's pool counts on
    // attach), so the request asking here is not counted yet.
    if (resources.requests().canCreate()) {
      return false;
    }
    stats.upstreamRqPendingOverflow.inc();
    callbacks.onPoolFailure(ResetReason.OVERFLOW, "overflow", host);
    return true;
  }

  /** Queues a request within {@code max_pending_requests}; null (after failing it) on overflow. */
  protected @Nullable Pending enqueue(PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
    if (!resources.pendingRequests().canCreate()) {
      stats.upstreamRqPendingOverflow.inc();
      callbacks.onPoolFailure(ResetReason.OVERFLOW, "overflow", host);
      return null;
    }
    resources.pendingRequests().inc();
    stats.upstreamRqPendingTotal.inc();
    stats.upstreamRqPendingActive.inc();
    Pending p = new Pending(callbacks, response);
    pending.add(p);
    return p;
  }

  /** Takes the next live pending request off the queue, or null. */
  protected @Nullable Pending dequeue() {
    Pending p = pending.poll();
    if (p != null) {
      resources.pendingRequests().dec();
      stats.upstreamRqPendingActive.dec();
    }
    return p;
  }

  /** Fails every pending request (connect failure with no connection left to wait for). */
  protected void failPending(ResetReason reason, String details) {
    Pending p;
    while ((p = dequeue()) != null) {
      p.callbacks.onPoolFailure(reason, details, host);
    }
  }

  protected void onPendingCancelled() {}

  /**
   * A connection attempt failed (TCP or TLS): fails the waiting requests it was opened for. By
   * default all of them (a multiplexing pool waits on one connection at a time).
   */
  protected void onConnectFailed(ResetReason reason, String details) {
    failPending(reason, details);
  }

  /** Whether one more connection fits the cluster's {@code max_connections}. */
  protected boolean canOpenConnection() {
    if (!resources.connections().canCreate()) {
      stats.upstreamCxOverflow.inc();
      return false;
    }
    return true;
  }

  /**
   * Opens a connection: {@code pipeline} adds the protocol handlers behind TLS (when the cluster
   * has a TLS transport socket); the listener hears of it once TCP connected and, with TLS, the
   * handshake completed.
   */
  protected void connect(java.util.function.Consumer<ChannelPipeline> pipeline, ConnectListener listener) {
    UpstreamTransportSocket t = tls;
    var k = keepalive;
    ChannelHandler handler = new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (k != null) {
          TcpKeepaliveOptions.apply(ch, k);
        }
        if (t != null) {
          ch.pipeline().addLast("sluice-tls", t.newHandler(ch.alloc(), host, null, alpn));
        }
        pipeline.accept(ch.pipeline());
      }
    };
    connecting++;
    resources.connections().inc();
    stats.upstreamCxTotal.inc();
    stats.upstreamCxActive.inc();
    host.stats().cxTotal.increment();
    host.stats().cxActive.incrementAndGet();
    long start = System.nanoTime();
    Bootstrap b = bootstrap.clone().handler(handler);
    // A pipe host is a Unix domain socket: no TCP channel, no source address to bind.
    ChannelFuture f = host.socketAddress() instanceof dev.sluice.listener.InternalAddress internal ? dev.sluice.listener.InternalListeners.connect(b, internal, host.metadata())
        : host.socketAddress() instanceof DomainSocketAddress pipe
        ? Workers.connectDomainSocket(b, pipe)
        : UpstreamSource.connect(b, host.address(), cluster);
    f.addListener((ChannelFuture cf) -> {
      if (cf.isSuccess()) {
        stats.upstreamCxConnectMs.record(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        cf.channel().closeFuture().addListener(x -> onConnectionClosed(start));
        SslHandler ssl = cf.channel().pipeline().get(SslHandler.class);
        if (ssl == null) {
          connecting--;
          host.outlierMonitor().putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_SUCCESS);
          listener.onConnected(cf.channel());
          return;
        }
        ssl.handshakeFuture().addListener(hf -> {
          // Still connecting while the handshake runs: a request arriving meanwhile waits for this
          // connection instead of opening another one.
          connecting--;
          if (hf.isSuccess()) {
            host.outlierMonitor().putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_SUCCESS);
            listener.onConnected(cf.channel());
          } else {
            // A failed handshake is a connect failure (flag UF), with the TLS reason.
            stats.upstreamCxConnectFail.inc();
            host.stats().cxConnectFail.increment();
            host.outlierMonitor().putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_FAILED);
            cf.channel().close();
            listener.onConnectFailed(ResetReason.CONNECTION_FAILURE, "TLS error: " + hf.cause().getMessage());
          }
        });
      } else {
        connecting--;
        boolean timeout = cf.cause() instanceof ConnectTimeoutException;
        stats.upstreamCxConnectFail.inc();
        if (timeout) {
          stats.upstreamCxConnectTimeout.inc();
        }
        host.stats().cxConnectFail.increment();
        // Outlier detection: a connect timeout or failure is a locally originated error.
        host.outlierMonitor().putResult(timeout ? OutlierMonitor.Result.LOCAL_ORIGIN_TIMEOUT
            : OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_FAILED);
        onConnectionClosed(start);
        listener.onConnectFailed(timeout ? ResetReason.CONNECTION_TIMEOUT : ResetReason.CONNECTION_FAILURE, String.valueOf(cf.cause()));
      }
    });
  }

  private void onConnectionClosed(long start) {
    resources.connections().dec();
    stats.upstreamCxActive.dec();
    stats.upstreamCxDestroy.inc();
    stats.upstreamCxLengthMs.record(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    host.stats().cxActive.decrementAndGet();
  }

  /**
   * Envoy's {@code max_connection_duration}: a connection up that long runs {@code drain} (take no
   * new request, close once the current ones are done) and counts
   * {@code upstream_cx_max_duration_reached}. Nothing without the setting.
   */
  protected final void armMaxConnectionDuration(Channel channel, Runnable drain) {
    dev.sluice.api.stats.Counter reached = maxDurationReached;
    if (reached == null) {
      return;
    }
    var timer = channel.eventLoop().schedule(() -> {
      if (channel.isActive()) {
        reached.inc();
        drain.run();
      }
    }, maxConnectionDurationNanos, TimeUnit.NANOSECONDS);
    channel.closeFuture().addListener(f -> timer.cancel(false));
  }

  interface ConnectListener {
    void onConnected(Channel channel);

    void onConnectFailed(ResetReason reason, String details);
  }
}
