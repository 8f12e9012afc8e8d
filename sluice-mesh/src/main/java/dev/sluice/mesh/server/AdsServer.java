package dev.sluice.mesh.server;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The control plane's gRPC server: Aggregated Discovery Service, state of the world and delta on
 * the same port, plaintext as istiod's 15010.
 */
public final class AdsServer implements AutoCloseable {
  private final Server server;

  private AdsServer(Server server) {
    this.server = server;
  }

  /** Binds {@code address} (port 0: any free port) and serves {@code controlPlane}'s ADS. */
  public static AdsServer start(MeshControlPlane controlPlane, InetSocketAddress address) {
    Server s = NettyServerBuilder.forAddress(address)
        .addService(controlPlane.discoveryServer().getAggregatedDiscoveryServiceImpl())
        // Proxies keep idle ADS streams alive with pings; allow them rather than closing the stream.
        .permitKeepAliveWithoutCalls(true)
        .permitKeepAliveTime(1, TimeUnit.SECONDS)
        .build();
    try {
      return new AdsServer(s.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve ADS on " + address.getHostString() + ":" + address.getPort()
          + ": " + e.getMessage(), e);
    }
  }

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
  }
}
