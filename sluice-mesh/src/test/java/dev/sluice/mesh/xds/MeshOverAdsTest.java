package dev.sluice.mesh.xds;

import static dev.sluice.testing.XdsProtos.loopback;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.mesh.model.ProxyNode;
import dev.sluice.mesh.model.XdsResources;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.AdsBootstrap;
import dev.sluice.testing.TestBackend;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestControlPlane.Service;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The translator's output served over ADS (java-control-plane's SimpleCache and V3DiscoveryServer)
 * to a real in-process Sluice, then real requests through it to real backends. Only two things
 * are changed from the translation, because tests bind loopback port 0: every listener moves to
 * 127.0.0.1:0, and the EDS endpoints of the workloads a test stands up a backend for point at that
 * backend (in the mesh they are the workload's sidecar at {@code 127.0.N.M:9080}).
 */
class MeshOverAdsTest {
  private static final List<String> TYPES = List.of(
      "type.googleapis.com/envoy.config.cluster.v3.Cluster",
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
      "type.googleapis.com/envoy.config.listener.v3.Listener",
      "type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
  private static final Duration WAIT = Duration.ofSeconds(20);

  /**
   * Snapshots keyed by node id, as istiod keys config per proxy. The test proxies send their node
   * on every request ({@code set_node_on_first_message_only: false}): java-control-plane groups
   * each request by its own node, and with Istio's bootstrap (true) every request after a stream's
   * first carries none, so an ADS server for real sidecars must remember the node per stream.
   */
  private final SimpleCache<String> cache = new SimpleCache<>(node -> node.getId());
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private TestControlPlane controlPlane;

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
  }

  private int startControlPlane() throws Exception {
    controlPlane = TestControlPlane.start(cache, Service.ADS);
    return controlPlane.port();
  }

  /** A Sluice bootstrapped as pilot-agent bootstraps a proxy: its node id and ADS for CDS and LDS. */
  private Server proxy(ProxyNode node, int xdsPort) {
    Server s = new Server(TestServers.options(), TestServers.bootstrap(
        AdsBootstrap.toPort(xdsPort).node(node.id(), "test").http2().yaml())).start();
    closeables.add(s);
    return s;
  }

  /** Publishes the resources (listeners on 127.0.0.1:0, endpoints at the given addresses moved to loopback ports) as {@code version}. */
  private void publish(ProxyNode node, XdsResources x, String version, Map<String, Integer> portByAddress) {
    List<Listener> listeners = x.listeners().stream()
        .map(l -> l.toBuilder().setAddress(loopback(0)).build())
        .toList();
    List<ClusterLoadAssignment> endpoints = x.endpoints().stream().map(cla -> moved(cla, portByAddress)).toList();
    List<Cluster> clusters = x.clusters().stream()
        .map(c -> c.hasLoadAssignment() ? c.toBuilder().setLoadAssignment(moved(c.getLoadAssignment(), portByAddress)).build() : c)
        .toList();
    cache.setSnapshot(node.id(), Snapshot.create(clusters, endpoints, listeners, x.routes(), List.of(), version));
  }

  private static ClusterLoadAssignment moved(ClusterLoadAssignment cla, Map<String, Integer> portByAddress) {
    ClusterLoadAssignment.Builder b = cla.toBuilder();
    for (LocalityLbEndpoints.Builder locality : b.getEndpointsBuilderList()) {
      for (LbEndpoint.Builder e : locality.getLbEndpointsBuilderList()) {
        Integer port = portByAddress.get(e.getEndpoint().getAddress().getSocketAddress().getAddress());
        if (port != null) {
          e.getEndpointBuilder().setAddress(loopback(port));
        }
      }
    }
    return b.build();
  }

  /** Waits until the proxy has ACKed {@code version} of every type; a NACK fails at once with Sluice's reason. */
  private void awaitAcked(ProxyNode node, String version, String what) {
    await().atMost(WAIT).untilAsserted(() -> {
      List<DiscoveryRequest> mine = controlPlane.requests.stream().filter(r -> r.getNode().getId().equals(node.id())).toList();
      for (DiscoveryRequest r : mine) {
        assertThat(r.hasErrorDetail()).as(what + ": NACK of " + r.getTypeUrl() + ": " + r.getErrorDetail().getMessage()).isFalse();
      }
      for (String type : TYPES) {
        assertThat(mine).as(() -> what + ": ACK of " + type + " version " + version + " among " + controlPlane.requests.stream()
                .map(r -> r.getTypeUrl().substring(r.getTypeUrl().lastIndexOf('.') + 1) + "@" + r.getVersionInfo() + "/" + r.getResponseNonce()
                    + r.getResourceNamesList().stream().limit(3).toList()).toList())
            .anyMatch(r -> r.getTypeUrl().equals(type) && r.getVersionInfo().equals(version) && !r.getResponseNonce().isEmpty());
      }
    });
  }

  /** One HTTP/1.1 request on a fresh connection; returns the status line and headers (lower-cased names) and body. */
  private static String request(int port, String requestLine, String... headers) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      StringBuilder req = new StringBuilder(requestLine).append("\r\n");
      for (String h : headers) {
        req.append(h).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      in.transferTo(buf);
      return buf.toString(StandardCharsets.UTF_8);
    }
  }

  private static String backendOf(String response) {
    for (String line : response.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("x-backend:")) {
        return line.substring("x-backend:".length()).trim();
      }
      if (line.isEmpty()) {
        break;
      }
    }
    return "none: " + response;
  }

  private Map<String, Integer> reviewsBackends(Map<String, TestBackend> byVersion) throws Exception {
    Map<String, Integer> ports = new HashMap<>();
    for (String v : List.of("v1", "v2", "v3")) {
      TestBackend b = new TestBackend("reviews-" + v);
      closeables.add(b);
      byVersion.put(v, b);
      String address = Bookinfo.REGISTRY.workloads().stream().filter(w -> w.name().equals("reviews-" + v)).findFirst().orElseThrow().address();
      ports.put(address, b.port());
    }
    return ports;
  }

  @Test
  void everyBookinfoTaskTranslationIsAcceptedBySluice() throws Exception {
    Server s = proxy(Bookinfo.PRODUCTPAGE, startControlPlane());
    int version = 0;
    try (Stream<Path> files = Files.list(Bookinfo.NETWORKING)) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        XdsResources x = name.startsWith("destination-rule") ? Bookinfo.translate(Bookinfo.PRODUCTPAGE) : Bookinfo.translate(Bookinfo.PRODUCTPAGE, name);
        String v = Integer.toString(++version);
        publish(Bookinfo.PRODUCTPAGE, x, v, Map.of());
        awaitAcked(Bookinfo.PRODUCTPAGE, v, name);
      }
    }
    assertThat(s.listenerPort("127.0.1.6_15001")).isPositive();
    assertThat(s.listenerPort("127.0.1.6_9080")).isPositive();
  }

  @Test
  void jasonReachesReviewsV2AndEveryoneElseV1ThroughTheOutboundProxy() throws Exception {
    Map<String, TestBackend> backends = new HashMap<>();
    Map<String, Integer> ports = reviewsBackends(backends);
    Server s = proxy(Bookinfo.PRODUCTPAGE, startControlPlane());
    publish(Bookinfo.PRODUCTPAGE, Bookinfo.translate(Bookinfo.PRODUCTPAGE, "virtual-service-reviews-test-v2.yaml"), "1", ports);
    awaitAcked(Bookinfo.PRODUCTPAGE, "1", "reviews-test-v2");
    int port = s.listenerPort("127.0.1.6_15001");

    for (int i = 0; i < 3; i++) {
      assertThat(backendOf(request(port, "GET /reviews/0 HTTP/1.1", "Host: reviews:9080", "end-user: jason"))).isEqualTo("reviews-v2");
      assertThat(backendOf(request(port, "GET /reviews/0 HTTP/1.1", "Host: reviews:9080"))).isEqualTo("reviews-v1");
      assertThat(backendOf(request(port, "GET /reviews/0 HTTP/1.1", "Host: reviews:9080", "end-user: alice"))).isEqualTo("reviews-v1");
    }
    // As the app sends it to its sidecar, an HTTP proxy: absolute-form, routed by its authority.
    assertThat(backendOf(request(port, "GET http://reviews:9080/reviews/0 HTTP/1.1", "Host: reviews:9080", "end-user: jason")))
        .isEqualTo("reviews-v2");
    assertThat(backends.get("v3").requests.get()).isZero();
    assertThat(backends.get("v2").seen).allSatisfy(r -> assertThat(r.uri()).isEqualTo("/reviews/0"));

    // all-v1 pushed live: jason goes to v1 as well.
    publish(Bookinfo.PRODUCTPAGE, Bookinfo.translate(Bookinfo.PRODUCTPAGE, "virtual-service-all-v1.yaml"), "2", ports);
    awaitAcked(Bookinfo.PRODUCTPAGE, "2", "all-v1");
    assertThat(backendOf(request(port, "GET /reviews/0 HTTP/1.1", "Host: reviews:9080", "end-user: jason"))).isEqualTo("reviews-v1");
    // An unknown name outside the registry is not looped back into the proxy (allow_any needs ip:port).
    assertThat(request(port, "GET / HTTP/1.1", "Host: nowhere.example").lines().findFirst().orElse("")).startsWith("HTTP/1.1 503");
  }

  @Test
  void throughBothSidecarsProductpageOutboundToReviewsV2InboundToTheApp() throws Exception {
    TestBackend app = new TestBackend("reviews-v2-app");
    closeables.add(app);
    int xds = startControlPlane();
    // The reviews-v2 sidecar: its inbound listener hands requests to the app (127.1.1.4:9080 in the mesh).
    Server reviews = proxy(Bookinfo.REVIEWS_V2, xds);
    publish(Bookinfo.REVIEWS_V2, Bookinfo.translate(Bookinfo.REVIEWS_V2, "virtual-service-reviews-test-v2.yaml"), "1",
        Map.of("127.1.1.4", app.port()));
    awaitAcked(Bookinfo.REVIEWS_V2, "1", "reviews-v2 sidecar");
    // The productpage sidecar: reviews-v2's endpoint (127.0.1.4:9080 in the mesh) is that inbound listener.
    Server productpage = proxy(Bookinfo.PRODUCTPAGE, xds);
    publish(Bookinfo.PRODUCTPAGE, Bookinfo.translate(Bookinfo.PRODUCTPAGE, "virtual-service-reviews-test-v2.yaml"), "1",
        Map.of("127.0.1.4", reviews.listenerPort("127.0.1.4_9080")));
    awaitAcked(Bookinfo.PRODUCTPAGE, "1", "productpage sidecar");

    String response = request(productpage.listenerPort("127.0.1.6_15001"), "GET http://reviews:9080/reviews/0 HTTP/1.1",
        "Host: reviews:9080", "end-user: jason");
    assertThat(backendOf(response)).isEqualTo("reviews-v2-app");
    assertThat(app.seen).singleElement().satisfies(r -> {
      assertThat(r.headers().get("end-user")).isEqualTo("jason");
      assertThat(r.headers().get("x-request-id")).isNotEmpty();
    });
  }

  @Test
  void transparentModeTranslationIsAcceptedBySluice() throws Exception {
    ProxyNode node = ProxyNode.parse(Bookinfo.PRODUCTPAGE.id(), ProxyNode.Mode.TRANSPARENT);
    Server s = proxy(node, startControlPlane());
    publish(node, Bookinfo.translate(node, "virtual-service-reviews-test-v2.yaml"), "1", Map.of());
    awaitAcked(node, "1", "transparent");
    assertThat(s.listenerPort("virtualOutbound")).isPositive();
    assertThat(s.listenerPort("virtualInbound")).isPositive();
  }

  @Test
  void gatewayRoutesProductpageFromTheBookinfoGateway() throws Exception {
    TestBackend productpage = new TestBackend("productpage-v1");
    closeables.add(productpage);
    String address = Bookinfo.REGISTRY.workloads().stream().filter(w -> w.name().equals("productpage-v1")).findFirst().orElseThrow().address();
    Server s = proxy(Bookinfo.GATEWAY, startControlPlane());
    publish(Bookinfo.GATEWAY, Bookinfo.translate(Bookinfo.GATEWAY, "bookinfo-gateway.yaml"), "1", Map.of(address, productpage.port()));
    awaitAcked(Bookinfo.GATEWAY, "1", "bookinfo-gateway");
    int port = s.listenerPort("0.0.0.0_8080");
    assertThat(backendOf(request(port, "GET /productpage HTTP/1.1", "Host: bookinfo.example"))).isEqualTo("productpage-v1");
    assertThat(backendOf(request(port, "GET /static/tailwind.css HTTP/1.1", "Host: 127.0.0.1:8080"))).isEqualTo("productpage-v1");
    assertThat(request(port, "GET /other HTTP/1.1", "Host: bookinfo.example").lines().findFirst().orElse("")).startsWith("HTTP/1.1 404");
  }

  @Test
  void ratingsAbortGivesJason500() throws Exception {
    TestBackend ratings = new TestBackend("ratings-v1");
    closeables.add(ratings);
    String address = Bookinfo.REGISTRY.workloads().stream().filter(w -> w.name().equals("ratings-v1")).findFirst().orElseThrow().address();
    Server s = proxy(Bookinfo.PRODUCTPAGE, startControlPlane());
    publish(Bookinfo.PRODUCTPAGE, Bookinfo.translate(Bookinfo.PRODUCTPAGE, "virtual-service-ratings-test-abort.yaml"), "1",
        Map.of(address, ratings.port()));
    awaitAcked(Bookinfo.PRODUCTPAGE, "1", "ratings-test-abort");
    int port = s.listenerPort("127.0.1.6_15001");
    assertThat(request(port, "GET /ratings/0 HTTP/1.1", "Host: ratings:9080", "end-user: jason")).startsWith("HTTP/1.1 500");
    assertThat(backendOf(request(port, "GET /ratings/0 HTTP/1.1", "Host: ratings:9080"))).isEqualTo("ratings-v1");
    assertThat(ratings.requests.get()).isEqualTo(1);
  }
}
