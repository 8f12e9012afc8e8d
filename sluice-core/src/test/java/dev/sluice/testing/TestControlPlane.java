package dev.sluice.testing;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.BindableService;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * java-control-plane's discovery server ({@link V3DiscoveryServer} over the caller's
 * {@link SimpleCache}) on a port-0 gRPC server on 127.0.0.1, offering the given services and
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

  private TestControlPlane(SimpleCache<String> cache, Service... services) throws IOException {
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
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
    for (Service s : services) {
      builder.addService(s.impl.apply(discovery));
    }
    this.grpc = builder.build().start();
  }

  /** Starts serving {@code cache} over {@code services}. */
  public static TestControlPlane start(SimpleCache<String> cache, Service... services) throws IOException {
    return new TestControlPlane(cache, services);
  }

  public int port() {
    return grpc.getPort();
  }

  /** Stops at once, waiting (bounded) for the streams to end. */
  @Override
  public void close() throws InterruptedException {
    grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
