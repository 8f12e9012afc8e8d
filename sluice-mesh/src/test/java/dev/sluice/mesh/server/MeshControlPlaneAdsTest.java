package dev.sluice.mesh.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.ValidationMessage;
import dev.sluice.mesh.model.Workload;
import dev.sluice.mesh.testing.TestSources;
import dev.sluice.mesh.testing.TestTranslator;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The control plane's ADS against a real in-process Sluice bootstrapped by {@link SidecarBootstrap}
 * (state of the world and delta): the initial push serves traffic, an apply re-routes in under a
 * second, a validation error pushes nothing, a NACK is recorded (and not answered by re-sending the
 * rejected version), and a delete restores the route; the status follows every step.
 */
class MeshControlPlaneAdsTest {
  private static final Duration PUSH = Duration.ofSeconds(1);
  private static final String VS_TO_TWO = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: to-two}
      spec:
        hosts: [one]
        http: [{route: [{destination: {host: two}}]}]
      """;

  private final HttpClient http = HttpClient.newHttpClient();
  private final TestSources sources = new TestSources();
  private TestBackend one;
  private TestBackend two;
  private LocalControlPlane mesh;
  private Server proxy;

  @BeforeEach
  void start() throws Exception {
    one = new TestBackend("one");
    two = new TestBackend("two");
    ServiceRegistry registry = new ServiceRegistry(
        List.of(service("one", one.port()), service("two", two.port())),
        List.of(new Workload("one-v1", "default", Map.of("app", "one"), "default", "127.0.0.1", "127.0.0.1"),
            new Workload("two-v1", "default", Map.of("app", "two"), "default", "127.0.0.1", "127.0.0.1")));
    mesh = LocalControlPlane.start(new TestTranslator(), sources, registry, List.of(),
        new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0));
  }

  private static MeshService service(String name, int targetPort) {
    return new MeshService(name, "default", name + ".default.svc.cluster.local", "",
        List.of(new ServicePort("http", 80, targetPort, "HTTP")), Map.of("app", name));
  }

  @AfterEach
  void stop() {
    for (AutoCloseable c : new AutoCloseable[] {proxy, mesh, one, two}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception ignored) {
        // closing the rest matters more
      }
    }
  }

  private void startProxy(boolean delta) {
    SidecarBootstrap b = new SidecarBootstrap("sidecar", "127.0.0.1", "one-v1", "default", "one.default",
        Map.of("app", "one"), dev.sluice.mesh.model.ProxyNode.Mode.EXPLICIT,
        new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", mesh.adsPort()), delta);
    proxy = TestServers.start(TestServers.bootstrap(b.json()), TestServers.options());
  }

  private String backend() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.listenerPort(TestTranslator.LISTENER) + "/")).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.headers().firstValue("x-backend").orElse("status " + r.statusCode());
  }

  private ProxyStatus status() {
    List<ProxyStatus> all = mesh.controlPlane().status();
    assertThat(all).hasSize(1);
    return all.getFirst();
  }

  /** Every type ACKed; RDS (which every step here changes) at {@code version}. Delta sends a type only when it changed. */
  private void assertSynced(String version) {
    await().atMost(PUSH).untilAsserted(() -> {
      ProxyStatus s = status();
      for (String type : List.of("CDS", "LDS", "EDS", "RDS")) {
        assertThat(s.type(type).state()).as(type).isEqualTo(TypeStatus.SYNCED);
      }
      assertThat(s.type("RDS").ackedVersion()).isEqualTo(version);
    });
  }

  private long rdsRejected() {
    return proxy.stats().counter("http." + TestTranslator.LISTENER + ".rds." + TestTranslator.ROUTE + ".update_rejected").value();
  }

  @ParameterizedTest(name = "delta={0}")
  @ValueSource(booleans = {false, true})
  void pushesApplyValidateNackAndDelete(boolean delta) throws Exception {
    startProxy(delta);
    assertThat(backend()).isEqualTo("one");
    ProxyStatus initial = status();
    assertThat(initial.proxy()).isEqualTo("sidecar~127.0.0.1~one-v1.default~default.svc.cluster.local");
    assertThat(initial.mode()).isEqualTo("EXPLICIT");
    assertThat(initial.protocol()).isEqualTo(delta ? "Delta" : "SotW");
    assertSynced("0");
    assertThat(status().type("CDS").ackedVersion()).isEqualTo("0");

    ChangeResult applied = mesh.controlPlane().apply(sources.parse(VS_TO_TWO, "to-two.yaml"));
    assertThat(applied.accepted()).isTrue();
    assertThat(applied.version()).isEqualTo(1);
    assertThat(applied.changes()).containsExactly("VirtualService/default/to-two created");
    await().atMost(PUSH).until(() -> backend().equals("two"));
    assertSynced("1");

    ChangeResult unchanged = mesh.controlPlane().apply(sources.parse(VS_TO_TWO, "to-two.yaml"));
    assertThat(unchanged.version()).isEqualTo(1);
    assertThat(unchanged.changes()).containsExactly("VirtualService/default/to-two unchanged");

    ChangeResult invalid = mesh.controlPlane().apply(sources.parse(VS_TO_TWO.replace("host: two", "host: nowhere")
        .replace("to-two", "bad"), "bad.yaml"));
    assertThat(invalid.accepted()).isFalse();
    assertThat(invalid.version()).isEqualTo(1);
    assertThat(invalid.messages()).extracting(ValidationMessage::toString).containsExactly(
        "ERROR [bad.yaml#0] VirtualService/default/bad spec.http[0].route[0].destination.host: host \"nowhere\" is not a service in the registry");
    assertThat(mesh.controlPlane().state().resources()).extracting(MeshResource::name).containsExactly("to-two");
    assertThat(backend()).isEqualTo("two");
    assertSynced("1");

    ChangeResult broken = mesh.controlPlane().apply(sources.parse(
        "apiVersion: test/v1\nkind: Broken\nmetadata: {name: regex}\nspec: {}\n", "broken.yaml"));
    assertThat(broken.accepted()).isTrue();
    await().atMost(PUSH).untilAsserted(() -> {
      TypeStatus rds = status().type("RDS");
      assertThat(rds.state()).isEqualTo(TypeStatus.STALE);
      assertThat(rds.nackedVersion()).isEqualTo("2");
      assertThat(rds.ackedVersion()).isEqualTo("1");
      assertThat(rds.nackMessage()).contains("regex");
    });
    assertThat(status().type("CDS").state()).isEqualTo(TypeStatus.SYNCED);
    assertThat(backend()).as("the rejected route config leaves the last good one in force").isEqualTo("two");

    ChangeResult deleted = mesh.controlPlane().delete(sources.parse(
        "kind: Broken\nmetadata: {name: regex}\n---\nkind: VirtualService\nmetadata: {name: to-two}\n", "delete.yaml"));
    assertThat(deleted.changes()).containsExactly("Broken/default/regex deleted", "VirtualService/default/to-two deleted");
    assertThat(deleted.version()).isEqualTo(3);
    await().atMost(PUSH).until(() -> backend().equals("one"));
    assertSynced("3");
    assertThat(rdsRejected()).as("the rejected version is not sent again and again").isEqualTo(1);
  }

  @ParameterizedTest(name = "delta={0}")
  @ValueSource(booleans = {false, true})
  void aDisconnectedProxyLeavesTheStatus(boolean delta) {
    startProxy(delta);
    assertSynced("0");
    proxy.close();
    await().atMost(Duration.ofSeconds(5)).until(() -> mesh.controlPlane().status().isEmpty());
    assertThat(mesh.controlPlane().config("sidecar~127.0.0.1~one-v1.default~default.svc.cluster.local")).isEmpty();
  }
}
