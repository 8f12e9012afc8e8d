package dev.sluice.extensions.filters.network.tcp_proxy;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.api.upstream.ResourceManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied connection: the downstream handler, which owns the upstream connection (opened on the
 * same event loop) and relays buffers both ways without copying. Backpressure: a side stops reading
 * while the other side is not writable. Half-close: a FIN from one side becomes a shutdownOutput
 * towards the other; the session ends when both directions are closed or either side resets.
 */
final class TcpProxySession extends ChannelInboundHandlerAdapter implements LoadBalancerContext {
  private static final Logger log = LoggerFactory.getLogger(TcpProxySession.class);

  private final TcpProxyConfig config;
  private final DownstreamConnection connection;
  private final Channel downstream;
  private final StreamInfo info;
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
  private @Nullable Channel upstream;
  private @Nullable Cluster cluster;
  private @Nullable Host host;
  private int attempts;
  private boolean upstreamActive;
  private boolean downstreamInputClosed;
  private boolean upstreamInputClosed;
  private boolean closed;
  private long connectStartNanos;
  private long upstreamConnectedNanos;
  private long lastActivityNanos;
  private @Nullable ScheduledFuture<?> idleTimer;
  private @Nullable ScheduledFuture<?> durationTimer;

  TcpProxySession(TcpProxyConfig config, DownstreamConnection connection) {
    this.config = config;
    this.connection = connection;
    this.downstream = connection.channel;
    this.info = connection.streamInfo;
  }

  @Override
  public @Nullable InetSocketAddress originalDestination() {
    return connection.localAddressRestored ? connection.localAddress : null;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    downstream.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    // Nothing is read from downstream until the upstream connection is up (as Envoy).
    downstream.config().setAutoRead(false);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    config.stats().downstreamCxTotal.inc();
    lastActivityNanos = System.nanoTime();
    if (config.maxDownstreamConnectionDurationMillis() > 0) {
      durationTimer = downstream.eventLoop().schedule(() -> {
        config.stats().maxDownstreamConnectionDuration.inc();
        closeAll();
      }, config.maxDownstreamConnectionDurationMillis(), TimeUnit.MILLISECONDS);
    }
    String name = config.pickCluster();
    info.upstreamCluster = name;
    cluster = config.clusterManager().get(name);
    if (cluster == null) {
      config.stats().downstreamCxNoRoute.inc();
      info.setFlag(ResponseFlag.NO_CLUSTER_FOUND);
      closeAll();
      return;
    }
    connectUpstream();
    ctx.fireChannelActive();
  }

  private void connectUpstream() {
    Cluster c = cluster;
    if (c == null || closed) {
      return;
    }
    ClusterInfo ci = c.info();
    ResourceManager.ResourceLimit connections = ci.resourceManager().connections();
    if (!connections.canCreate()) {
      ci.stats().upstreamCxOverflow.inc();
      info.setFlag(ResponseFlag.UPSTREAM_OVERFLOW);
      closeAll();
      return;
    }
    Host h = c.loadBalancer(connection.workerIndex).chooseHost(this);
    if (h == null) {
      ci.stats().upstreamCxNoneHealthy.inc();
      info.setFlag(ResponseFlag.NO_HEALTHY_UPSTREAM);
      closeAll();
      return;
    }
    host = h;
    attempts++;
    info.attemptCount = attempts;
    info.upstreamHost = h.addressString();
    connections.inc();
    ci.stats().upstreamCxTotal.inc();
    h.stats().cxTotal.increment();
    connectStartNanos = System.nanoTime();
    int limit = ci.perConnectionBufferLimitBytes();
    io.netty.bootstrap.Bootstrap b =
        dev.sluice.upstream.pool.UpstreamSource.bootstrap(connection)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, ci.connectTimeout().toMillis()))
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(limit / 2, Math.max(1, limit)))
            .handler(new UpstreamHandler(ci, h, connections));
    ChannelFuture f = h.socketAddress() instanceof dev.sluice.listener.InternalAddress internal ? dev.sluice.listener.InternalListeners.connect(b, internal, h.metadata())
        : h.socketAddress() instanceof io.netty.channel.unix.DomainSocketAddress pipe
        ? dev.sluice.listener.Workers.connectDomainSocket(b, pipe)
        : dev.sluice.upstream.pool.UpstreamSource.connect(b, h.address(), ci);
    upstream = f.channel();
    f.addListener((ChannelFutureListener) done -> {
      if (done.isSuccess()) {
        onUpstreamConnected(ci, h);
      } else {
        onConnectFailure(ci, h, done.cause());
      }
    });
  }

  private void onUpstreamConnected(ClusterInfo ci, Host h) {
    Channel up = upstream;
    if (up == null || closed) {
      if (up != null) {
        up.close();
      }
      return;
    }
    upstreamActive = true;
    upstreamConnectedNanos = System.nanoTime();
    ci.stats().upstreamCxConnectMs.record((upstreamConnectedNanos - connectStartNanos) / 1_000_000);
    ci.stats().upstreamCxActive.inc();
    h.stats().cxActive.incrementAndGet();
    // A pipe connection has no IP local address (UPSTREAM_LOCAL_ADDRESS stays unset).
    info.upstreamLocalAddress = up.localAddress() instanceof InetSocketAddress a ? a : null;
    ByteBuf b;
    while ((b = pending.poll()) != null) {
      up.write(b);
    }
    // Shutting the output down discards what a partial flush left queued: the FIN waits for it.
    ChannelFuture flushed = up.writeAndFlush(Unpooled.EMPTY_BUFFER);
    if (downstreamInputClosed) {
      flushed.addListener(f -> ((DuplexChannel) up).shutdownOutput());
    } else {
      downstream.config().setAutoRead(true);
    }
    scheduleIdleTimer();
  }

  private void onConnectFailure(ClusterInfo ci, Host h, Throwable cause) {
    upstream = null;
    ci.resourceManager().connections().dec();
    h.stats().cxConnectFail.increment();
    if (cause instanceof ConnectTimeoutException) {
      ci.stats().upstreamCxConnectTimeout.inc();
    } else {
      ci.stats().upstreamCxConnectFail.inc();
    }
    info.upstreamTransportFailureReason = String.valueOf(cause.getMessage());
    if (closed) {
      return;
    }
    if (attempts < config.maxConnectAttempts()) {
      connectUpstream();
      return;
    }
    if (config.maxConnectAttempts() > 1) {
      ci.statsScope().counter("upstream_cx_connect_attempts_exceeded").inc();
    }
    info.setFlag(ResponseFlag.UPSTREAM_CONNECTION_FAILURE);
    closeAll();
  }

  // ---- downstream side ----

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    int n = buf.readableBytes();
    config.stats().downstreamCxRxBytesTotal.add(n);
    info.bytesReceived += n;
    info.upstreamBytesSent += n;
    lastActivityNanos = System.nanoTime();
    Channel up = upstream;
    if (!upstreamActive || up == null) {
      // Only the bytes held by the listener filters arrive here before the upstream is up.
      pending.add(buf);
      return;
    }
    if (cluster != null) {
      cluster.info().stats().upstreamCxTxBytesTotal.add(n);
    }
    up.write(buf, up.voidPromise());
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    Channel up = upstream;
    if (upstreamActive && up != null) {
      up.flush();
      if (!up.isWritable()) {
        pauseReading(downstream, true);
      }
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Channel up = upstream;
    if (downstream.isWritable() && up != null && !upstreamInputClosed) {
      up.config().setAutoRead(true);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      downstreamInputClosed = true;
      Channel up = upstream;
      if (upstreamActive && up != null) {
        up.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ((DuplexChannel) up).shutdownOutput());
      }
      closeIfBothDone();
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!upstreamInputClosed || !downstreamInputClosed) {
      Channel up = upstream;
      if (upstreamActive && up != null && up.isActive()) {
        // Downstream went away first: flush what it sent, then close upstream.
        info.setFlag(ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION);
      }
    }
    closeAll();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("tcp_proxy downstream {} error", connection.id, cause);
    closeAll();
  }

  private void pauseReading(Channel ch, boolean downstreamSide) {
    if (ch.config().isAutoRead()) {
      ch.config().setAutoRead(false);
      if (downstreamSide) {
        config.stats().downstreamFlowControlPausedReadingTotal.inc();
      }
    }
  }

  private void closeIfBothDone() {
    if (downstreamInputClosed && upstreamInputClosed) {
      closeAll();
    }
  }

  // Closes both sides once, after flushing what each has to send; logs the connection.
  private void closeAll() {
    if (closed) {
      return;
    }
    closed = true;
    if (idleTimer != null) {
      idleTimer.cancel(false);
    }
    if (durationTimer != null) {
      durationTimer.cancel(false);
    }
    ByteBuf b;
    while ((b = pending.poll()) != null) {
      b.release();
    }
    Channel up = upstream;
    if (up != null) {
      flushThenClose(up);
    }
    flushThenClose(downstream);
    info.endNanos = System.nanoTime();
    config.accessLogger().log(info);
  }

  private static void flushThenClose(Channel ch) {
    if (ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    } else {
      ch.close();
    }
  }

  private void scheduleIdleTimer() {
    long idle = config.idleTimeoutMillis();
    if (idle > 0 && !closed) {
      long remaining = idle - (System.nanoTime() - lastActivityNanos) / 1_000_000;
      idleTimer = downstream.eventLoop().schedule(this::onIdleTimer, Math.max(1, remaining), TimeUnit.MILLISECONDS);
    }
  }

  private void onIdleTimer() {
    if (closed) {
      return;
    }
    if ((System.nanoTime() - lastActivityNanos) / 1_000_000 >= config.idleTimeoutMillis()) {
      config.stats().idleTimeout.inc();
      closeAll();
    } else {
      scheduleIdleTimer();
    }
  }

  /** The upstream side: relays to downstream and accounts the upstream connection. */
  private final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    private final ClusterInfo ci;
    private final Host h;
    private final ResourceManager.ResourceLimit connections;

    UpstreamHandler(ClusterInfo ci, Host h, ResourceManager.ResourceLimit connections) {
      this.ci = ci;
      this.h = h;
      this.connections = connections;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf buf)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      int n = buf.readableBytes();
      ci.stats().upstreamCxRxBytesTotal.add(n);
      config.stats().downstreamCxTxBytesTotal.add(n);
      info.upstreamBytesReceived += n;
      info.bytesSent += n;
      lastActivityNanos = System.nanoTime();
      downstream.write(buf, downstream.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      downstream.flush();
      if (!downstream.isWritable()) {
        pauseReading(ctx.channel(), false);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable() && !downstreamInputClosed && !downstream.config().isAutoRead()) {
        downstream.config().setAutoRead(true);
        config.stats().downstreamFlowControlResumedReadingTotal.inc();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        upstreamInputClosed = true;
        downstream.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> ((DuplexChannel) downstream).shutdownOutput());
        closeIfBothDone();
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (upstreamActive) {
        upstreamActive = false;
        ci.stats().upstreamCxActive.dec();
        ci.stats().upstreamCxDestroy.inc();
        (closed ? ci.stats().upstreamCxDestroyLocal : ci.stats().upstreamCxDestroyRemote).inc();
        ci.stats().upstreamCxLengthMs.record((System.nanoTime() - upstreamConnectedNanos) / 1_000_000);
        h.stats().cxActive.decrementAndGet();
        connections.dec();
        if (!closed && !(upstreamInputClosed && downstreamInputClosed)) {
          info.setFlag(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION);
        }
        closeAll();
      } else {
        // Connected after the session had ended (a failed connect never gets here).
        connections.dec();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("tcp_proxy upstream {} error", h.addressString(), cause);
      ctx.close();
    }
  }
}
