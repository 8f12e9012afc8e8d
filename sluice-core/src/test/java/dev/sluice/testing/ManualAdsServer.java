package dev.sluice.testing;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * An ADS gRPC server on 127.0.0.1:0 that answers nothing by itself: it records every request and
 * hands the test the latest stream's response observer (SotW and delta), so the test writes each
 * response; with a plaintext channel to it for the client under test.
 */
public final class ManualAdsServer implements AutoCloseable {
  /** State-of-the-world requests, in arrival order. */
  public final Queue<DiscoveryRequest> sotwRequests = new ConcurrentLinkedQueue<>();
  /** Delta requests, in arrival order. */
  public final Queue<DeltaDiscoveryRequest> deltaRequests = new ConcurrentLinkedQueue<>();
  private final AtomicReference<StreamObserver<DiscoveryResponse>> sotw = new AtomicReference<>();
  private final AtomicReference<StreamObserver<DeltaDiscoveryResponse>> delta = new AtomicReference<>();
  private final io.grpc.Server server;
  private final ManagedChannel channel;

  private ManualAdsServer() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
          @Override
          public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> out) {
            sotw.set(out);
            return recorder(sotwRequests);
          }

          @Override
          public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(StreamObserver<DeltaDiscoveryResponse> out) {
            delta.set(out);
            return recorder(deltaRequests);
          }
        }).build().start();
    channel = NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", server.getPort())).usePlaintext().build();
  }

  public static ManualAdsServer start() throws IOException {
    return new ManualAdsServer();
  }

  /** A plaintext channel to the server, closed with it. */
  public ManagedChannel channel() {
    return channel;
  }

  /** The latest SotW stream's responses, or null before one opens. */
  public @Nullable StreamObserver<DiscoveryResponse> sotw() {
    return sotw.get();
  }

  /** The latest delta stream's responses, or null before one opens. */
  public @Nullable StreamObserver<DeltaDiscoveryResponse> delta() {
    return delta.get();
  }

  /** How many requests (SotW and delta) have arrived. */
  public int requestCount() {
    return sotwRequests.size() + deltaRequests.size();
  }

  private static <T> StreamObserver<T> recorder(Queue<T> into) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        into.add(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  /** Closes the channel and stops the server at once, waiting (bounded) for it. */
  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
