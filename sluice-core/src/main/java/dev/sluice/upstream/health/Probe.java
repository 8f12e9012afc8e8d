package dev.sluice.upstream.health;

import dev.sluice.listener.Workers;
import dev.sluice.upstream.HostImpl;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.util.function.Consumer;
import java.util.function.Supplier;
import dev.sluice.tls.UpstreamTransportSocket;
import org.jspecify.annotations.Nullable;

/**
 * One host's health check connection and protocol, on the health check loop. A check connects
 * (or reuses the open connection when {@code reuse_connection}), sends its request and reports one
 * {@link CheckResult}; a close before the answer is a network failure. Subclasses speak HTTP/1,
 * HTTP/2 (HTTP and gRPC) or raw TCP. The session owns the timeout and calls {@link #abort()}.
 */
abstract class Probe {
  protected final HostImpl host;
  protected final HealthCheckConfig config;
  protected final HealthCheckStats stats;
  protected final EventLoop loop;
  /** The {@code :authority} of HTTP and gRPC checks when the config names none: the cluster's name. */
  protected final String clusterName;
  private final Bootstrap bootstrap;
  protected @Nullable Channel channel;
  private @Nullable Consumer<CheckResult> pending;
  private Supplier<@Nullable UpstreamTransportSocket> transportSocket = () -> null;

  Probe(HostImpl host, HealthCheckConfig config, HealthCheckStats stats, EventLoop loop) {
    this.host = host;
    this.config = config;
    this.stats = stats;
    this.loop = loop;
    this.clusterName = host.cluster().name();
    this.bootstrap = new Bootstrap()
        .group(loop)
        .channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1,
            Math.min(config.timeout().toMillis(), host.cluster().connectTimeout().toMillis())));
  }

  /** Where the cluster's TLS comes from (asked on the loop when a check connects). */
  final void useTransportSocket(Supplier<@Nullable UpstreamTransportSocket> tls) {
    this.transportSocket = tls;
  }

  /** The ALPN a TLS check connection offers when the cluster's TLS context names none. */
  protected UpstreamTransportSocket.Alpn alpn() {
    return UpstreamTransportSocket.Alpn.NONE;
  }

  /**
   * The {@code :authority} of an HTTP or gRPC check: the endpoint's {@code health_check_config.hostname},
   * else the check's configured one, else the cluster's name.
   */
  protected final String authority(String configured) {
    String endpoint = host.healthCheckConfig().getHostname();
    return !endpoint.isEmpty() ? endpoint : configured.isEmpty() ? clusterName : configured;
  }

  /** Starts one check; {@code done} hears its result once, on the loop. Any thread. */
  final void check(Consumer<CheckResult> done) {
    onLoop(() -> {
      pending = done;
      Channel c = channel;
      if (c != null && c.isActive() && canReuse()) {
        send(c);
      } else {
        closeChannel();
        connect();
      }
    });
  }

  /** Forgets the running check (it timed out) and closes the connection, as Envoy does. */
  final void abort() {
    onLoop(() -> {
      pending = null;
      closeChannel();
    });
  }

  /** Runs on the loop; nothing once the loop has stopped (the cluster manager closed). */
  private void onLoop(Runnable task) {
    try {
      loop.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // Shutting down: the loop closed its connections already.
    }
  }

  /** Ends for good (the host left the cluster or health checking stopped). */
  final void close() {
    abort();
  }

  /** Whether the open connection may carry the next check (HTTP/2 without GOAWAY, etc.). */
  protected boolean canReuse() {
    return config.reuseConnection();
  }

  protected abstract void initPipeline(ChannelPipeline pipeline);

  /** Writes the check's request on a connected channel. */
  protected abstract void send(Channel channel);

  /** Reports the running check's result, once; closes the connection unless it is reused. */
  protected final void complete(Channel from, CheckResult result) {
    if (from != channel) {
      return; // a connection of an earlier, abandoned check
    }
    Consumer<CheckResult> done = pending;
    pending = null;
    if (!config.reuseConnection()) {
      closeChannel();
    }
    if (done != null) {
      done.accept(result);
    }
  }

  protected final void closeChannel() {
    Channel c = channel;
    channel = null;
    if (c != null) {
      c.close();
    }
  }

  private void connect() {
    UpstreamTransportSocket tls;
    try {
      tls = transportSocket.get();
    } catch (RuntimeException e) {
      // A transport socket the pools cannot use either: the check fails as a connection would.
      Consumer<CheckResult> done = pending;
      pending = null;
      if (done != null) {
        done.accept(CheckResult.NETWORK_FAILED);
      }
      return;
    }
    Bootstrap b = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (tls != null) {
          ch.pipeline().addLast("sluice-tls", tls.newHandler(ch.alloc(), host, null, alpn()));
        }
        initPipeline(ch.pipeline());
      }
    });
    ChannelFuture f;
    if (host.socketAddress() instanceof DomainSocketAddress pipe) {
      f = Workers.connectDomainSocket(b, pipe);
    } else {
      InetSocketAddress a = host.address();
      // The endpoint's health_check_config.port_value, else the check's alt port, else its own.
      int port = host.healthCheckConfig().getPortValue() != 0 ? host.healthCheckConfig().getPortValue()
          : config.altPort() != 0 ? config.altPort() : a.getPort();
      InetSocketAddress target = port == a.getPort() ? a : new InetSocketAddress(a.getAddress(), port);
      f = host.cluster().upstreamBindAddress() == null ? b.connect(target)
          : b.connect(target, host.cluster().upstreamBindAddress());
    }
    Channel c = f.channel();
    channel = c;
    c.closeFuture().addListener(x -> complete(c, CheckResult.NETWORK_FAILED));
    f.addListener((ChannelFuture cf) -> {
      if (!cf.isSuccess()) {
        complete(c, CheckResult.NETWORK_FAILED);
      } else if (channel == c) {
        send(c);
      }
    });
  }
}
