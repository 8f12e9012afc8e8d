package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.address;
import static dev.sluice.testing.XdsProtos.edsCluster;
import static dev.sluice.testing.XdsProtos.loopback;
import static dev.sluice.testing.XdsProtos.rdsListener;
import static dev.sluice.testing.XdsProtos.routeToCluster;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.AdsBootstrap;
import dev.sluice.testing.TestBackend;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The scale of the headline, measured: CDS with 10,000 Istio-named EDS clusters, then EDS
 * with 10 endpoints each (100,000), served by java-control-plane over a real socket to a full
 * server that already has its listener and a route to the last cluster. Reports the time from
 * java-control-plane handing the EDS response to gRPC (an upper bound of "the client received the
 * last byte": it includes the loopback transfer) until every cluster is active and a request
 * through the route to the last cluster succeeds, and the heap retained per cluster and per
 * endpoint (used heap after full GCs, before and after; the served snapshot is already built and
 * counted in "before").
 *
 * <p>Off in the normal suite: run with {@code bench/xds-scale} (sets {@code -Dsluice.scale=true}).
 * The heap split runs the load twice, with 1 and with 10 endpoints per cluster, each on a fresh
 * server: per endpoint = difference / 90,000; per cluster = the 1-endpoint load less one endpoint.
 */
@Tag("scale")
@EnabledIfSystemProperty(named = "sluice.scale", matches = "true")
class XdsScaleTest {
  private static final String GROUP = "scale";
  private static final int CLUSTERS = Integer.getInteger("sluice.scale.clusters", 10_000);
  private static final int ENDPOINTS_PER_CLUSTER = 10;
  private static final Duration WAIT = Duration.ofMinutes(5);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** One load's numbers. */
  private record Result(int endpointsPerCluster, long retainedBytes, long cdsSentToActiveMs,
      long edsSentToActiveMs, long edsSentToServedMs, long setToServedMs, int edsResponseBytes) {}

  private static String clusterName(int i) {
    return "outbound|8080||svc-%05d.default.svc.cluster.local".formatted(i);
  }

  /** The big snapshot: every endpoint on its own 127.x address (never connected to) but the last cluster's, on the backend. */
  private static Snapshot load(int endpointsPerCluster, Listener listener, RouteConfiguration route, int backendPort) {
    List<Cluster> clusters = new ArrayList<>(CLUSTERS);
    List<ClusterLoadAssignment> assignments = new ArrayList<>(CLUSTERS);
    int n = 0;
    for (int i = 0; i < CLUSTERS; i++) {
      String name = clusterName(i);
      clusters.add(edsCluster(name, name).toBuilder()
          .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(10)).build());
      LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
      for (int e = 0; e < endpointsPerCluster; e++, n++) {
        Address a = i == CLUSTERS - 1 ? loopback(backendPort)
            : address("127.%d.%d.%d".formatted(1 + n / 65536, n / 256 % 256, n % 256), 8080);
        locality.addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(a)));
      }
      assignments.add(ClusterLoadAssignment.newBuilder().setClusterName(name).addEndpoints(locality).build());
    }
    return Snapshot.create(clusters, assignments, List.of(listener), List.of(route), List.of(), "2");
  }

  private static long usedHeapAfterGc() {
    var memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
    }
    return used;
  }

  private Result run(int endpointsPerCluster) throws Exception {
    SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
    AtomicLong cdsSent = new AtomicLong();
    AtomicLong edsSent = new AtomicLong();
    AtomicLong edsBytes = new AtomicLong();
    V3DiscoveryServer discovery = new V3DiscoveryServer(new DiscoveryServerCallbacks() {
      @Override
      public void onV3StreamRequest(long streamId, DiscoveryRequest request) {}

      @Override
      public void onV3StreamDeltaRequest(long streamId, io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest request) {}

      @Override
      public void onV3StreamResponse(long streamId, DiscoveryRequest request, DiscoveryResponse response) {
        if (response.getVersionInfo().equals("2")) {
          if (response.getTypeUrl().equals(XdsResourceType.CLUSTER.typeUrl())) {
            cdsSent.set(System.nanoTime());
          } else if (response.getTypeUrl().equals(XdsResourceType.ENDPOINT.typeUrl())) {
            edsBytes.set(response.getSerializedSize());
            edsSent.set(System.nanoTime());
          }
        }
      }
    }, cache);
    io.grpc.Server controlPlane = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(discovery.getAggregatedDiscoveryServiceImpl()).build().start();
    try (TestBackend backend = new TestBackend("last")) {
      String last = clusterName(CLUSTERS - 1);
      Listener listener = rdsListener("scale", "scale", "scale");
      RouteConfiguration route = routeToCluster("scale", last);
      // Version 1: the listener and its route only, so the server is live before the load.
      cache.setSnapshot(GROUP, Snapshot.create(List.of(), List.of(), List.of(listener), List.of(route), List.of(), "1"));
      try (Server s = TestServers.start(AdsBootstrap.toPort(controlPlane.getPort()).node("scale").nodeOnFirstMessageOnly().yaml())) {
        URI uri = URI.create("http://127.0.0.1:" + s.listenerPort("scale") + "/");
        Snapshot snapshot = load(endpointsPerCluster, listener, route, backend.port());
        long before = usedHeapAfterGc();

        long set = System.nanoTime();
        cache.setSnapshot(GROUP, snapshot);
        await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
            .until(() -> s.stats().gauge("cluster_manager.active_clusters").value() == CLUSTERS + 1);
        long active = System.nanoTime();
        await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
            .until(() -> get(uri) == 200);
        long served = System.nanoTime();

        long after = usedHeapAfterGc();
        if (Boolean.getBoolean("sluice.scale.histogram")) {
          printClassHistogram();
        }
        assertThat(s.stats().gauge("cluster.%s.membership_total".formatted(last)).value()).isEqualTo(endpointsPerCluster);
        assertThat(backend.requests.get()).isPositive();
        return new Result(endpointsPerCluster, after - before,
            ms(active - cdsSent.get()), ms(active - edsSent.get()), ms(served - edsSent.get()), ms(served - set),
            (int) edsBytes.get());
      }
    } finally {
      controlPlane.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** The heap's 30 largest classes (jcmd GC.class_histogram, in process), for profiling retained memory. */
  private static void printClassHistogram() throws Exception {
    Object out = ManagementFactory.getPlatformMBeanServer().invoke(
        new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
        new Object[] {new String[0]}, new String[] {String[].class.getName()});
    ((String) out).lines().limit(33).forEach(System.out::println);
  }

  private int get(URI uri) {
    try {
      return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  @Test
  void tenThousandEdsClustersWithAHundredThousandEndpoints() throws Exception {
    Result one = run(1);
    Result ten = run(ENDPOINTS_PER_CLUSTER);
    double perEndpoint = (double) (ten.retainedBytes() - one.retainedBytes()) / (CLUSTERS * (ENDPOINTS_PER_CLUSTER - 1));
    double perCluster = (double) one.retainedBytes() / CLUSTERS - perEndpoint;
    System.out.println("xds scale: " + CLUSTERS + " EDS clusters");
    for (Result r : List.of(one, ten)) {
      System.out.printf("  %d endpoint(s)/cluster: EDS response %d bytes; CDS sent -> all active %d ms; EDS sent -> all active %d ms;"
              + " EDS sent -> request served %d ms; snapshot set -> served %d ms; retained heap %.1f MiB (%.0f B/cluster incl. endpoints)%n",
          r.endpointsPerCluster(), r.edsResponseBytes(), r.cdsSentToActiveMs(), r.edsSentToActiveMs(), r.edsSentToServedMs(),
          r.setToServedMs(), r.retainedBytes() / 1048576.0, (double) r.retainedBytes() / CLUSTERS);
    }
    System.out.printf("  retained per cluster %.0f B (target < 10240), per endpoint %.0f B (target < 1024)%n", perCluster, perEndpoint);
    System.out.printf("  EDS sent -> served %d ms (target < 1000)%n", ten.edsSentToServedMs());
    assertThat(ten.retainedBytes()).isPositive();
  }
}
