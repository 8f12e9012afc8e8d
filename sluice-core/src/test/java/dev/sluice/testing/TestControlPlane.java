package dev.sluice.testing;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.BindableService;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * java-control-plane's discovery server ({@link V3DiscoveryServer} over the caller's
 * {@link SimpleCache}) on a gRPC server on 127.0.0.1 (port 0 unless given) or a Unix socket, offering the given services and
 * recording every request it receives (ACKs and NACKs included).
 */
public final class TestControlPlane implements AutoCloseable {
  /** The discovery services the gRPC server offers. */
  public enum Service {
    ADS(V3DiscoveryServer::getAggregatedDiscoveryServiceImpl),
    SDS(V3DiscoveryServer::getSecretDiscoveryServiceImpl),
    LDS(V3DiscoveryServer::getListenerDiscoveryServiceImpl),
    RDS(V3DiscoveryServer::getRouteDiscoveryServiceImpl),
    CDS(V3DiscoveryServer::getClusterDiscoveryServiceImpl),
    EDS(V3DiscoveryServer::getEndpointDiscoveryServiceImpl);

    private final Function<V3DiscoveryServer, BindableService> impl;

    Service(Function<V3DiscoveryServer, BindableService> impl) {
      this.impl = impl;
    }
  }

  /** State-of-the-world requests, in arrival order. */
  public final ConcurrentLinkedQueue<DiscoveryRequest> requests = new ConcurrentLinkedQueue<>();
  /** Delta requests, in arrival order. */
  public final ConcurrentLinkedQueue<DeltaDiscoveryRequest> deltaRequests = new ConcurrentLinkedQueue<>();
  private final io.grpc.Server grpc;
  private final @Nullable EventLoopGroup group;

  private TestControlPlane(NettyServerBuilder builder, @Nullable EventLoopGroup group, SimpleCache<String> cache,
      Service... services) throws IOException {
    this.group = group;
    V3DiscoveryServer discovery = new V3DiscoveryServer(new DiscoveryServerCallbacks() {
      @Override
      public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
        requests.add(request);
      }

      @Override
      public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
        deltaRequests.add(request);
      }
    }, cache);
    for (Service s : services) {
      builder.addService(s.impl.apply(discovery));
    }
    this.grpc = builder.build().start();
  }

  /** Starts serving {@code cache} over {@code services} on an ephemeral port. */
  public static TestControlPlane start(SimpleCache<String> cache, Service... services) throws IOException {
    return startOn(0, cache, services);
  }

  /** Starts serving {@code cache} over {@code services} on 127.0.0.1:{@code port} (a restart on the port a proxy knows). */
  public static TestControlPlane startOn(int port, SimpleCache<String> cache, Service... services) throws IOException {
    return new TestControlPlane(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)), null,
        cache, services);
  }

  /** Starts serving {@code cache} over {@code services} on the Unix domain socket {@code path} (needs epoll). */
  public static TestControlPlane startOnUnixSocket(Path path, SimpleCache<String> cache, Service... services)
      throws IOException {
    EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    return new TestControlPlane(NettyServerBuilder.forAddress(new DomainSocketAddress(path.toString()))
        .channelType(EpollServerDomainSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group),
        group, cache, services);
  }

  public int port() {
    return grpc.getPort();
  }

  /** Stops at once, waiting (bounded) for the streams to end; then the Unix socket's event loop. */
  @Override
  public void close() throws InterruptedException {
    // The server first: its shutdown waits, without a timeout, for its channels to close on that loop.
    grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
