package dev.sluice.mesh.demo.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.Workload;
import dev.sluice.mesh.server.LocalControlPlane;
import dev.sluice.mesh.server.ProxyStatus;
import dev.sluice.mesh.server.SidecarBootstrap;
import dev.sluice.mesh.server.TypeStatus;
import dev.sluice.mesh.testing.TestSources;
import dev.sluice.mesh.testing.TestTranslator;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pod's bootstrap: transparent node, xds-grpc as a pipe, and a real proxy taking its xDS over the control plane's Unix socket. */
class PodBootstrapTest {
  private static final Workload REVIEWS = new Workload("reviews-v2", "default", Map.of("app", "reviews", "version", "v2"), "bookinfo-reviews",
      "10.44.1.4", "10.44.1.4");

  @Test
  void nodeIsTransparentAtThePodIpAndXdsIsAPipe() {
    SidecarBootstrap b = PodBootstrap.of(REVIEWS, false);
    assertThat(b.nodeId()).isEqualTo("sidecar~10.44.1.4~reviews-v2.default~default.svc.cluster.local");
    Bootstrap parsed = TestServers.bootstrap(PodBootstrap.json(b, Path.of("/run/demo/XDS")));
    assertThat(parsed.getNode().getMetadata().getFieldsOrThrow("SLUICE_MESH_MODE").getStringValue()).isEqualTo("TRANSPARENT");
    assertThat(parsed.getNode().getMetadata().getFieldsOrThrow("INTERCEPTION_MODE").getStringValue()).isEqualTo("REDIRECT");
    assertThat(parsed.getAdmin().getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.1");
    assertThat(parsed.getAdmin().getAddress().getSocketAddress().getPortValue()).isEqualTo(15000);
    Cluster xds = parsed.getStaticResources().getClustersList().stream().filter(c -> c.getName().equals("xds-grpc")).findFirst().orElseThrow();
    assertThat(xds.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getPipe().getPath())
        .isEqualTo("/run/demo/XDS");
    assertThat(PodBootstrap.of(REVIEWS, true).nodeId()).startsWith("router~10.44.1.4~");
  }

  @Test
  void aProxyTakesItsConfigurationOverTheUnixSocket(@TempDir Path dir) {
    ServiceRegistry registry = new ServiceRegistry(
        List.of(new MeshService("reviews", "default", "reviews.default.svc.cluster.local", "10.96.1.3",
            List.of(new ServicePort("http", 9080, 9080, "HTTP")), Map.of("app", "reviews"))),
        List.of(REVIEWS));
    Path socket = dir.resolve("XDS");
    try (LocalControlPlane mesh = LocalControlPlane.start(new TestTranslator(), new TestSources(), registry, List.of(),
        new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0))) {
      mesh.serveAdsOn(socket);
      assertThat(Files.isWritable(socket)).isTrue();
      SidecarBootstrap b = PodBootstrap.of(REVIEWS, false).withAdmin(new InetSocketAddress("127.0.0.1", 0));
      try (Server proxy = TestServers.start(TestServers.bootstrap(PodBootstrap.json(b, socket)), TestServers.options())) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
          assertThat(mesh.controlPlane().status()).singleElement().satisfies(s -> {
            assertThat(s.proxy()).isEqualTo(b.nodeId());
            assertThat(s.mode()).isEqualTo("TRANSPARENT");
            assertThat(s.type("LDS").state()).isEqualTo(TypeStatus.SYNCED);
          });
        });
        assertThat(proxy.listenerPort(TestTranslator.LISTENER)).isPositive();
      }
    }
    // Closing the control plane removes the socket.
    assertThat(socket).doesNotExist();
  }
}
