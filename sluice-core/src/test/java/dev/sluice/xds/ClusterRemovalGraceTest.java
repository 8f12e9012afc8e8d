package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.edsCluster;
import static dev.sluice.testing.XdsProtos.httpListener;
import static dev.sluice.testing.XdsProtos.oneEndpoint;
import static dev.sluice.testing.XdsProtos.rdsConnectionManager;
import static dev.sluice.testing.XdsProtos.routeToCluster;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.AdsBootstrap;
import dev.sluice.testing.BlockingFilterFactory;
import dev.sluice.testing.TestBackend;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestControlPlane.Service;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A request that started on a route table naming cluster A is still served by A when, before it
 * is routed, RDS moves the route to B and CDS removes A: the workers' map drops a removed cluster
 * only after every worker has finished the task it was running (a grace period), as Envoy, whose
 * workers take route and cluster updates on their own threads, in order. Without it the request
 * got 503 "cluster not found" (the rare failure of {@link XdsLoadTest}). A test filter holds the
 * worker between the start of the request and its routing while the control plane makes the change.
 */
class ClusterRemovalGraceTest {
  private static final String GROUP = "sidecar";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
  private TestControlPlane controlPlane;
  private Server server;
  private TestBackend a;
  private TestBackend b;

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {server, controlPlane, a, b}) {
      if (c != null) {
        c.close();
      }
    }
  }

  @Test
  void aRequestRoutedOnTheTableItStartedWithFindsTheClusterRemovedMeanwhile() throws Exception {
    a = new TestBackend("a");
    b = new TestBackend("b");
    snapshot("1", "A", a.port(), b.port());
    controlPlane = TestControlPlane.start(cache, TestControlPlane.Service.ADS);
    server = TestServers.start(TestServers.bootstrap(AdsBootstrap.toPort(controlPlane.port()).node("grace").http2().yaml()),
        TestServers.options(2, Duration.ofSeconds(1)));
    HttpClient http = HttpClient.newHttpClient();
    assertThat(get(http, "/").body()).isEqualTo("ok GET /");
    assertThat(get(http, "/").headers().firstValue("x-backend")).contains("a");

    // A request starts (its route table names A) and is held before the router sees it.
    BlockingFilterFactory.Gate gate = BlockingFilterFactory.arm();
    CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> {
      try {
        return get(http, BlockingFilterFactory.PATH);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(gate.entered().await(20, TimeUnit.SECONDS)).isTrue();

    // The route moves to B and A goes, in one push; the proxy applies both and removes A.
    snapshot("2", "B", a.port(), b.port());
    await().atMost(WAIT).until(() -> server.stats().counter("cluster_manager.cluster_removed").value() == 1
        && server.stats().counter("http.ingress.rds.local.update_success").value() == 2);

    gate.release().countDown();
    HttpResponse<String> r = held.get(20, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as("the held request, routed on its table to A").isEqualTo(200);
    assertThat(r.headers().firstValue("x-backend")).contains("a");
    // New requests go to B, and A leaves the workers' map once the held worker has moved on.
    assertThat(get(http, "/").headers().firstValue("x-backend")).contains("b");
    await().atMost(WAIT).until(() -> server.stats().gauge("cluster_manager.active_clusters").value() == 2);
  }

  private HttpResponse<String> get(HttpClient http, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("http") + path))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Version {@code version}: the route goes to {@code routed}; cluster B always exists, A only while routed to. */
  private void snapshot(String version, String routed, int aPort, int bPort) {
    List<Cluster> clusters = routed.equals("A") ? List.of(edsCluster("A"), edsCluster("B")) : List.of(edsCluster("B"));
    List<ClusterLoadAssignment> endpoints = routed.equals("A")
        ? List.of(oneEndpoint("A", aPort), oneEndpoint("B", bPort)) : List.of(oneEndpoint("B", bPort));
    cache.setSnapshot(GROUP, Snapshot.create(clusters, endpoints, List.of(listener()),
        List.of(routeToCluster("local", routed)), List.of(), version));
  }

  /** The listener {@code http}: RDS route configuration {@code local}, the blocking test filter before the router. */
  private static Listener listener() {
    HttpConnectionManager hcm = rdsConnectionManager("ingress", "local").toBuilder()
        .addHttpFilters(0, HttpFilter.newBuilder().setName("test.block_worker").setTypedConfig(BlockingFilterFactory.config()))
        .build();
    return httpListener("http", hcm);
  }
}
