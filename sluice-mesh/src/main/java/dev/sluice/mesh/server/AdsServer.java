package dev.sluice.mesh.server;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The control plane's gRPC server: Aggregated Discovery Service, state of the world and delta on
 * the same port, plaintext as istiod's 15010; or on a Unix domain socket, as pilot-agent serves
 * its proxy (the bootstrap's {@code xds-grpc} cluster is a {@code pipe}), which reaches proxies in
 * other network namespaces.
 */
public final class AdsServer implements AutoCloseable {
  private final Server server;
  private final @Nullable EventLoopGroup group;

  private AdsServer(Server server, @Nullable EventLoopGroup group) {
    this.server = server;
    this.group = group;
  }

  /** Binds {@code address} (port 0: any free port) and serves {@code controlPlane}'s ADS. */
  public static AdsServer start(MeshControlPlane controlPlane, InetSocketAddress address) {
    Server s = serve(NettyServerBuilder.forAddress(address), controlPlane);
    try {
      return new AdsServer(s.start(), null);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve ADS on " + address.getHostString() + ":" + address.getPort()
          + ": " + e.getMessage(), e);
    }
  }

  /**
   * Serves {@code controlPlane}'s ADS on the Unix domain socket {@code socket} (epoll), replacing a
   * file left there, readable and writable by every uid (proxies run as Istio's 1337).
   */
  public static AdsServer startUds(MeshControlPlane controlPlane, Path socket) {
    EventLoopGroup group = new EpollEventLoopGroup(1);
    try {
      Files.deleteIfExists(socket);
      Server s = serve(NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
          .channelType(EpollServerDomainSocketChannel.class)
          .bossEventLoopGroup(group)
          .workerEventLoopGroup(group)
          // gRPC sets SO_KEEPALIVE on every accepted channel; a Unix socket has none (Netty warns per connection).
          .withChildOption(ChannelOption.SO_KEEPALIVE, null), controlPlane).start();
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
      return new AdsServer(s, group);
    } catch (IOException e) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw new UncheckedIOException("cannot serve ADS on " + socket + ": " + e.getMessage(), e);
    }
  }

  private static Server serve(NettyServerBuilder builder, MeshControlPlane controlPlane) {
    return builder
        .addService(controlPlane.discoveryServer().getAggregatedDiscoveryServiceImpl())
        // Proxies keep idle ADS streams alive with pings; allow them rather than closing the stream.
        .permitKeepAliveWithoutCalls(true)
        .permitKeepAliveTime(1, TimeUnit.SECONDS)
        .build();
  }

  /** The TCP port; -1 on a Unix domain socket. */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (group != null) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
    }
  }
}
