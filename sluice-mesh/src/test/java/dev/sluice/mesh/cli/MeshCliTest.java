package dev.sluice.mesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.ProxyNode;
import dev.sluice.mesh.server.LocalControlPlane;
import dev.sluice.mesh.server.MeshPlugins;
import dev.sluice.mesh.server.SidecarBootstrap;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI against a live control plane's HTTP API on port 0 (the real Istio YAML reader and
 * translator, found through {@code META-INF/services}): apply, get, delete, status; validation
 * errors print one per line, exit 1 and change nothing; one-line errors for missing files and an
 * unreachable server; {@code sluice mesh}'s start-up from registry and resource files.
 */
class MeshCliTest {
  private static final String REGISTRY = """
      apiVersion: v1
      kind: Service
      metadata: {name: one}
      spec:
        selector: {app: one}
        ports: [{name: http, port: 80, targetPort: 9080}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: two}
      spec:
        selector: {app: two}
        ports: [{name: http, port: 80, targetPort: 9080}]
      ---
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: one-v1}
      spec:
        template:
          metadata: {labels: {app: one, version: v1}}
          spec: {containers: [{name: one, image: one, ports: [{containerPort: 9080}]}]}
      """;
  private static final String VS = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: %s}
      spec:
        hosts: [one]
        http: [{route: [{destination: {host: %s}}]}]
      """;

  @TempDir Path dir;
  private LocalControlPlane mesh;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void start() throws Exception {
    Path registry = write("bookinfo.yaml", REGISTRY);
    mesh = MeshCli.start(MeshPlugins.sources(), List.of(registry), List.of(), 0, 0, new PrintWriter(err, true));
    closeables.add(mesh);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }

  private Path write(String name, String text) throws Exception {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
    return p;
  }

  private int run(String... args) {
    out.getBuffer().setLength(0);
    err.getBuffer().setLength(0);
    List<String> all = new ArrayList<>(List.of(args));
    if (!all.getFirst().equals("mesh")) {
      all.add("--server=http://127.0.0.1:" + mesh.apiPort());
    }
    return MeshCli.execute(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
  }

  private List<String> names() {
    return mesh.controlPlane().state().resources().stream().map(MeshResource::name).toList();
  }

  @Test
  void applyGetAndDelete() throws Exception {
    Path tasks = dir.resolve("tasks");
    write("tasks/a.yaml", VS.formatted("a", "one"));
    write("tasks/b.yml", VS.formatted("b", "two"));
    write("tasks/notes.txt", "not yaml");

    assertThat(run("apply", "-f", tasks.toString())).isZero();
    assertThat(out.toString()).isEqualTo("""
        VirtualService/default/a created
        VirtualService/default/b created
        version 1
        """);
    assertThat(names()).containsExactly("a", "b");

    assertThat(run("get", "vs")).isZero();
    assertThat(out.toString()).isEqualTo("""
        NAMESPACE   KIND             NAME   SOURCE
        default     VirtualService   a      %s#0
        default     VirtualService   b      %s#0
        """.formatted(tasks.resolve("a.yaml"), tasks.resolve("b.yml")));
    assertThat(run("get", "destinationrules")).isZero();
    assertThat(out.toString()).isEqualTo("No resources found (version 1).\n");
    assertThat(run("get", "-o", "json")).isZero();
    assertThat(out.toString()).contains("\"host\": \"two\"");

    assertThat(run("apply", "-f", tasks.resolve("a.yaml").toString())).isZero();
    assertThat(out.toString()).isEqualTo("VirtualService/default/a unchanged\nversion 1\n");

    assertThat(run("delete", "-f", tasks.resolve("a.yaml").toString())).isZero();
    assertThat(out.toString()).isEqualTo("VirtualService/default/a deleted\nversion 2\n");
    assertThat(names()).containsExactly("b");
  }

  @Test
  void validationErrorsPrintOnePerLineAndApplyNothing() throws Exception {
    Path good = write("good.yaml", VS.formatted("good", "one"));
    Path bad = write("bad.yaml", VS.formatted("bad", "nowhere") + "---\n" + VS.formatted("worse", "elsewhere"));

    assertThat(run("apply", "-f", good.toString(), "-f", bad.toString())).isEqualTo(1);
    assertThat(out.toString()).isEmpty();
    assertThat(err.toString()).isEqualTo("""
        ERROR [%1$s#0] VirtualService/default/bad spec.http[0].route[0].destination.host: Referenced host not found: \"nowhere\"
        ERROR [%1$s#1] VirtualService/default/worse spec.http[0].route[0].destination.host: Referenced host not found: \"elsewhere\"
        sluice apply: rejected, nothing applied (version 0 stays in force)
        """.formatted(bad));
    assertThat(names()).isEmpty();
    assertThat(mesh.controlPlane().state().version()).isZero();
  }

  @Test
  void oneLineErrors() throws Exception {
    assertThat(run("apply", "-f", dir.resolve("missing.yaml").toString())).isEqualTo(1);
    assertThat(err.toString()).isEqualTo("sluice apply: " + dir.resolve("missing.yaml") + ": no such file or directory\n");

    Path notK8s = write("list.yaml", "- just\n- a list\n");
    assertThat(run("apply", "-f", notK8s.toString())).isEqualTo(1);
    assertThat(err.toString()).startsWith("sluice apply: " + notK8s + "#0: ").doesNotContain("\n\n").hasLineCount(1);

    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    int code = MeshCli.execute(new String[] {"status", "--server", "http://127.0.0.1:" + closedPort},
        new PrintWriter(out, true), new PrintWriter(err, true));
    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).endsWith("sluice status: cannot reach the control plane at http://127.0.0.1:" + closedPort
        + " (is `sluice mesh` running?)\n");

    assertThat(run("apply")).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required option: '-f=FILE|DIR'");
  }

  @Test
  void statusShowsEachProxyAndWhatItAcked() throws Exception {
    assertThat(run("status")).isZero();
    assertThat(out.toString()).isEqualTo("No proxies connected (control plane version 0).\n");

    var w = mesh.controlPlane().state().registry().workloads().getFirst();
    SidecarBootstrap b = SidecarBootstrap.sidecar(w, new InetSocketAddress("127.0.0.1", mesh.adsPort()))
        .withAdmin(new InetSocketAddress("127.0.0.1", 0));
    assertThat(b.nodeId()).isEqualTo("sidecar~127.0.1.1~one-v1.default~default.svc.cluster.local");
    Server proxy = TestServers.start(TestServers.bootstrap(b.json()), TestServers.options());
    closeables.add(proxy);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      assertThat(run("status")).isZero();
      assertThat(out.toString()).isEqualTo("""
          NAME                                                         MODE       XDS     CDS           LDS           EDS           RDS
          sidecar~127.0.1.1~one-v1.default~default.svc.cluster.local   EXPLICIT   Delta   SYNCED (v0)   SYNCED (v0)   SYNCED (v0)   SYNCED (v0)
          control plane version 0
          """);
    });

    var http = java.net.http.HttpClient.newHttpClient();
    var config = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + mesh.apiPort()
        + "/debug/config?proxy=" + java.net.URLEncoder.encode(b.nodeId(), java.nio.charset.StandardCharsets.UTF_8))).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(config.statusCode()).isEqualTo(200);
    assertThat(config.body()).contains("\"name\":\"outbound|80||one.default.svc.cluster.local\"", "\"routes\":[{\"name\":\"http_proxy\"");
    var unknown = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + mesh.apiPort()
        + "/debug/config?proxy=nobody")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).contains("no connected proxy nobody");
  }

  @Test
  void meshRefusesToStartOnInvalidResources() throws Exception {
    Path registry = write("r.yaml", REGISTRY);
    Path bad = write("bad.yaml", VS.formatted("bad", "nowhere"));
    StringWriter messages = new StringWriter();
    assertThatThrownBy(() -> MeshCli.start(MeshPlugins.sources(), List.of(registry), List.of(bad), 0, 0,
        new PrintWriter(messages, true)))
        .isInstanceOf(MeshCli.Failure.class)
        .hasMessage("the initial resources have errors; nothing started");
    assertThat(messages.toString()).startsWith("ERROR [" + bad + "#0] VirtualService/default/bad ");

    try (LocalControlPlane started = MeshCli.start(MeshPlugins.sources(), List.of(registry),
        List.of(write("ok.yaml", VS.formatted("ok", "two"))), 0, 0, new PrintWriter(messages, true))) {
      assertThat(started.controlPlane().state().version()).isEqualTo(1);
      assertThat(started.controlPlane().state().registry().workloads()).extracting(w -> w.labels())
          .contains(Map.of("app", "one", "version", "v1"));
    }
  }

  @Test
  void sidecarBootstrapIsIstioShaped() {
    var w = mesh.controlPlane().state().registry().workloads().getFirst();
    SidecarBootstrap b = SidecarBootstrap.sidecar(w, new InetSocketAddress("127.0.0.1", 15010));
    assertThat(b.bootstrap().getNode().getMetadata().getFieldsOrThrow("SLUICE_MESH_MODE").getStringValue())
        .isEqualTo(ProxyNode.Mode.EXPLICIT.name());
    assertThat(b.bootstrap().getAdmin().getAddress().getSocketAddress().getPortValue()).isEqualTo(15000);
    // Each workload's sidecar has its own loopback address (docs/mesh.md), its admin there too.
    assertThat(b.bootstrap().getAdmin().getAddress().getSocketAddress().getAddress()).isEqualTo(w.address());
  }
}
