package dev.sluice.mesh.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.server.SidecarBootstrap;
import dev.sluice.mesh.testing.TestSources;
import dev.sluice.server.TestServers;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code sluice demo bookinfo} would start for the real {@code bookinfo.yaml} (without
 * starting it: the process-spawning run belongs to the scenario tests), and where it finds the
 * launcher and the Istio sample.
 */
class DemoPlanTest {

  @TempDir Path dir;

  private ServiceRegistry registry() throws Exception {
    TestSources sources = new TestSources();
    Path yaml = DemoPaths.bookinfo(null, dir.resolve("bin/sluice")).resolve("platform/kube/bookinfo.yaml");
    return sources.registry(sources.parse(Files.readString(yaml), yaml.toString()));
  }

  @Test
  void sidecarsThenAppsThenTheGateway() throws Exception {
    Path launcher = dir.resolve("sluice/bin/sluice");
    DemoPlan plan = new DemoPlan(launcher, dir, new InetSocketAddress("127.0.0.1", 15010));
    ServiceRegistry bookinfo = registry();
    // The real registry lists the ingress gateway as a workload: it is started as the gateway only.
    List<dev.sluice.mesh.model.Workload> withGateway = new java.util.ArrayList<>(bookinfo.workloads());
    withGateway.add(new dev.sluice.mesh.model.Workload("istio-ingressgateway", "istio-system",
        Map.of("istio", "ingressgateway"), "istio-ingressgateway", "127.0.0.1", "127.0.0.1"));
    List<DemoPlan.Child> children = plan.children(new ServiceRegistry(bookinfo.services(), withGateway));

    assertThat(children).extracting(DemoPlan.Child::name).containsExactly(
        "details-v1 sidecar", "ratings-v1 sidecar", "reviews-v1 sidecar", "reviews-v2 sidecar", "reviews-v3 sidecar",
        "productpage-v1 sidecar",
        "details-v1 app", "ratings-v1 app", "reviews-v1 app", "reviews-v2 app", "reviews-v3 app", "productpage-v1 app",
        "ingress gateway");

    DemoPlan.Child sidecar = children.get(3);
    assertThat(sidecar.command()).containsExactly(launcher.toString(), "-c", dir.resolve("reviews-v2.json").toString(),
        "--concurrency", "1");
    assertThat(sidecar.proxy().file()).isEqualTo(dir.resolve("reviews-v2.json"));
    String ip = sidecar.proxy().bootstrap().ip();
    assertThat(sidecar.proxy().bootstrap().nodeId()).isEqualTo("sidecar~" + ip + "~reviews-v2.default~default.svc.cluster.local");
    assertThat(sidecar.ready()).hasToString("http://" + ip + ":15000/ready");
    assertThat(sidecar.log()).isEqualTo(dir.resolve("reviews-v2.proxy.log"));

    DemoPlan.Child app = children.get(9);
    String appIp = registry().workloads().get(3).appAddress();
    assertThat(app.command()).containsExactly(launcher.toString(), "bookinfo", "reviews", "--version", "v2",
        "--listen", appIp + ":9080", "--proxy", ip + ":15001");
    assertThat(app.env()).isEqualTo(Map.of("HOSTNAME", "reviews-v2"));
    assertThat(app.ready()).hasToString("http://" + appIp + ":9080/health");
    assertThat(app.proxy()).isNull();

    SidecarBootstrap gateway = children.getLast().proxy().bootstrap();
    assertThat(gateway.nodeId()).isEqualTo("router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local");
    assertThat(children.getLast().ready()).hasToString("http://127.0.0.1:15000/ready");
  }

  @Test
  void everyBootstrapLoadsInSluice() throws Exception {
    DemoPlan plan = new DemoPlan(dir.resolve("bin/sluice"), dir, new InetSocketAddress("127.0.0.1", 15010));
    for (DemoPlan.Child c : plan.children(registry())) {
      if (c.proxy() != null) {
        var b = TestServers.bootstrap(c.proxy().bootstrap().json());
        assertThat(b.getNode().getId()).isEqualTo(c.proxy().bootstrap().nodeId());
        assertThat(b.getDynamicResources().getAdsConfig().getApiType().name()).isEqualTo("DELTA_GRPC");
        assertThat(b.getStaticResources().getClusters(0).getName()).isEqualTo("xds-grpc");
      }
    }
  }

  @Test
  void findsTheIstioSampleAboveTheCheckoutOrWhereToldAndTheLauncherFromTheProperty() throws Exception {
    Path bookinfo = DemoPaths.bookinfo(null, Path.of("../sluice-dist/target/sluice/bin/sluice").toAbsolutePath());
    assertThat(bookinfo).endsWith(Path.of("shared/istio/bookinfo"));
    assertThat(bookinfo.resolve("networking/virtual-service-all-v1.yaml")).isRegularFile();
    assertThat(DemoPaths.bookinfo(bookinfo.getParent(), dir)).isEqualTo(bookinfo);
    assertThat(DemoPaths.bookinfo(bookinfo, dir)).isEqualTo(bookinfo);
    assertThatThrownBy(() -> DemoPaths.bookinfo(dir, dir)).hasMessageContaining("holds no Bookinfo sample");

    Path launcher = Files.createDirectories(dir.resolve("bin")).resolve("sluice");
    Files.writeString(launcher, "#!/bin/sh\n");
    System.setProperty(DemoPaths.LAUNCHER_PROPERTY, launcher.toString());
    try {
      assertThat(DemoPaths.launcher()).isEqualTo(launcher);
    } finally {
      System.clearProperty(DemoPaths.LAUNCHER_PROPERTY);
    }
    assertThatThrownBy(DemoPaths::launcher).hasMessageContaining("not running from a Sluice distribution");
  }
}
