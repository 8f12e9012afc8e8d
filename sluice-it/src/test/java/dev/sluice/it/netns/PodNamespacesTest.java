package dev.sluice.it.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.it.Commands;
import dev.sluice.it.Distribution;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Pods on one machine, as Istio runs them: each pod a network namespace with Istio's iptables
 * rules (REDIRECT mode, uid 1337 excluded), the real Sluice distribution inside running as uid
 * 1337 with pilot-agent's command line, and a real server (the JDK's jwebserver) as the app.
 *
 * <pre>
 *   pod a (client, 10.44.1.1 / 10.44.2.1 / 10.44.3.1)
 *     |-- pod b  reviews-v1  10.44.1.2   app :9080           sidecar
 *     |-- pod c  reviews-v2  10.44.2.2   app :9080, :9000    sidecar
 *     `-- pod x  external    10.44.3.2   app :8000           no sidecar
 * </pre>
 *
 * Services resolve to VIPs (10.96.0.10 reviews, 10.96.0.20 tcp-echo) through /etc/hosts inside pod
 * a; only iptables ever sees them. Needs root, iproute2, iptables, setpriv and curl; skipped with a
 * message otherwise (scripts/install-test-tools installs iptables).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PodNamespacesTest {
  private static final int PROXY_UID = 1337;
  private static PodNetwork net;
  private static Path work;
  private static String a;
  private static String b;
  private static String c;
  private static String x;
  private static Process sidecarA;

  @BeforeAll
  static void startPods() throws Exception {
    PodNetwork.assumeUsable("network namespace tests need root (Istio's iptables rules and uid 1337)");
    work = Files.createTempDirectory("sluice-netns");
    // The proxy runs as uid 1337: it must read its bootstrap and write its log here.
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxrwxrwx"));
    net = new PodNetwork();
    a = net.addPod("a");
    b = net.addPod("b");
    c = net.addPod("c");
    x = net.addPod("x");
    net.link(a, "10.44.1.1", b, "10.44.1.2");
    net.link(a, "10.44.2.1", c, "10.44.2.2");
    net.link(a, "10.44.3.1", x, "10.44.3.2");
    net.route(a, "10.96.0.0/16", "10.44.1.2");
    net.hosts(a, "127.0.0.1 localhost\n10.96.0.10 reviews reviews.default.svc.cluster.local\n10.96.0.20 tcp-echo\n");
    String rules = istioRedirectRules();
    for (String pod : List.of(a, b, c)) {
      net.iptables(pod, rules);
    }
    app(b, 9080, "reviews-v1");
    app(c, 9080, "reviews-v2");
    app(c, 9000, "tcp-echo");
    app(x, 8000, "external");
    sidecarA = sidecar(a, "10.44.1.1", "PassthroughCluster");
    sidecar(b, "10.44.1.2", "PassthroughCluster");
    sidecar(c, "10.44.2.2", "PassthroughCluster");
    for (String pod : List.of(a, b, c)) {
      net.awaitSidecarReady(pod);
    }
    for (var app : Map.of(b, 9080, c, 9000, x, 8000).entrySet()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> net.tryExec(app.getKey(), "curl", "-s", "-o", "/dev/null",
          "http://127.0.0.1:" + app.getValue() + "/id.txt").exitCode() == 0);
    }
  }

  @AfterAll
  static void stopPods() throws Exception {
    if (net != null) {
      net.close();
    }
  }

  @Test
  @Order(1)
  void outboundCallIsInterceptedRoutedByHeaderAndEntersThePeerThroughItsSidecar() throws IOException {
    assertThat(curl(a, "http://reviews:9080/id.txt")).isEqualTo("reviews-v1");
    assertThat(curl(a, "-H", "end-user: jason", "http://reviews:9080/id.txt")).isEqualTo("reviews-v2");
    assertThat(curl(a, "http://reviews.default.svc.cluster.local:9080/id.txt")).isEqualTo("reviews-v1");

    // The client's sidecar routed it (0.0.0.0_9080, reached through virtualOutbound's
    // use_original_dst), and the server's sidecar took it in on 15006.
    assertThat(net.sidecarStat(a, "cluster.outbound|9080|v2|reviews.default.svc.cluster.local.upstream_rq_200")).isGreaterThanOrEqualTo(1);
    assertThat(net.sidecarStat(a, "http.outbound_0.0.0.0_9080.downstream_rq_2xx")).isGreaterThanOrEqualTo(3);
    assertThat(net.sidecarStat(b, "http.inbound_0.0.0.0_9080.downstream_rq_2xx")).isGreaterThanOrEqualTo(2);
    assertThat(net.sidecarStat(c, "http.inbound_0.0.0.0_9080.downstream_rq_2xx")).isGreaterThanOrEqualTo(1);
    // ...and handed it to the app from 127.0.0.6 (Istio's inbound source address).
    assertThat(Files.readString(work.resolve("app-" + b + "-9080.log"))).contains("127.0.0.6");
  }

  @Test
  @Order(2)
  void tcpServiceGoesThroughTcpProxyOnBothSides() {
    assertThat(curl(a, "http://tcp-echo:9000/id.txt")).isEqualTo("tcp-echo");
    assertThat(net.sidecarStat(a, "tcp.outbound|9000||tcp-echo.default.svc.cluster.local.downstream_cx_total")).isGreaterThanOrEqualTo(1);
    assertThat(net.sidecarStat(c, "tcp.inbound|9000||.downstream_cx_total")).isGreaterThanOrEqualTo(1);
  }

  @Test
  @Order(3)
  void unknownDestinationPassesThroughUnderAllowAny() {
    assertThat(curl(a, "http://10.44.3.2:8000/id.txt")).isEqualTo("external");
    assertThat(net.sidecarStat(a, "cluster.PassthroughCluster.upstream_cx_total")).isGreaterThanOrEqualTo(1);
  }

  @Test
  @Order(4)
  void proxyAnswersPilotAgentsAdminCalls() {
    String lds = net.exec(a, "curl", "-s", "http://127.0.0.1:15000/stats?usedonly&filter=downstream_cx_active$");
    assertThat(lds).contains("listener.0.0.0.0_15001.downstream_cx_active");
    String info = net.exec(a, "curl", "-s", "http://127.0.0.1:15000/server_info");
    assertThat(info).contains("\"state\": \"LIVE\"");
  }

  @Test
  @Order(5)
  void drainListenersInboundOnlyDrainsInboundAndLeavesOutboundServing() throws IOException {
    String out = net.exec(b, "curl", "-s", "-X", "POST", "http://127.0.0.1:15000/drain_listeners?inboundonly&graceful");
    assertThat(out).contains("OK");
    // Inbound: b's sidecar now closes connections after each response (called directly from a as
    // uid 1337, which a's rules do not intercept, so b's virtualInbound answers it).
    String headers = net.exec(a, "setpriv", "--reuid=" + PROXY_UID, "--regid=" + PROXY_UID, "--clear-groups",
        "curl", "-s", "-D", "-", "-o", "/dev/null", "http://10.44.1.2:9080/id.txt");
    assertThat(headers.toLowerCase()).contains("connection: close");
    // Outbound from b still serves: b calling reviews lands on itself (v1), out through its
    // outbound listener and back in through its draining inbound one, as Istio's self-calls do.
    net.hosts(b, "127.0.0.1 localhost\n10.96.0.10 reviews\n");
    net.route(b, "10.96.0.0/16", "10.44.1.1");
    assertThat(curl(b, "http://reviews:9080/id.txt")).isEqualTo("reviews-v1");
    assertThat(net.sidecarStat(b, "http.outbound_0.0.0.0_9080.downstream_rq_2xx")).isGreaterThanOrEqualTo(1);
  }

  @Test
  @Order(6)
  void unknownDestinationIsRefusedUnderRegistryOnly() throws Exception {
    net.stop(sidecarA);
    sidecarA = sidecar(a, "10.44.1.1", "BlackHoleCluster");
    net.awaitSidecarReady(a);
    Commands.Result refused = net.tryExec(a, "curl", "-s", "-m", "5", "http://10.44.3.2:8000/id.txt");
    assertThat(refused.exitCode()).as("curl to an unknown destination: %s", refused.output()).isNotZero();
    assertThat(net.sidecarStat(a, "cluster.BlackHoleCluster.upstream_cx_none_healthy")).isGreaterThanOrEqualTo(1);
    // Known services still work.
    assertThat(curl(a, "http://reviews:9080/id.txt")).isEqualTo("reviews-v1");
  }

  /** Istio's REDIRECT-mode rules (the golden for `-i '*'`-less config) plus outbound capture of everything, istio-iptables' default. */
  private static String istioRedirectRules() throws IOException {
    String golden = Files.readString(Distribution.istioData().resolve("iptables/inbound-ports-wildcard.golden"));
    int start = golden.indexOf("* nat");
    int end = golden.indexOf("COMMIT", start);
    // The golden was generated with no outbound IP ranges included; a default install includes
    // '*', which istio-iptables renders as this final jump.
    return golden.substring(start, end) + "-A ISTIO_OUTPUT -j ISTIO_REDIRECT\nCOMMIT\n";
  }

  private static void app(String ns, int port, String id) throws IOException {
    Path dir = Files.createDirectories(work.resolve("www-" + ns + "-" + port));
    Files.writeString(dir.resolve("id.txt"), id);
    Path jwebserver = Distribution.javaHome().resolve("bin/jwebserver");
    net.start(ns, null, work.resolve("app-" + ns + "-" + port + ".log"),
        List.of(jwebserver.toString(), "-b", "0.0.0.0", "-p", Integer.toString(port), "-d", dir.toString(), "-o", "info"));
  }

  private static Process sidecar(String ns, String podIp, String catchAll) throws IOException {
    String template;
    try (InputStream in = Objects.requireNonNull(PodNamespacesTest.class.getResourceAsStream("/netns/sidecar.yaml"))) {
      template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String yaml = template.replace("${POD_IP}", podIp).replace("${POD}", ns)
        .replace("${CATCHALL}", catchAll).replace("${REVIEWS_V1_IP}", "10.44.1.2").replace("${REVIEWS_V2_IP}", "10.44.2.2");
    Path bootstrap = work.resolve("envoy-" + ns + ".yaml");
    Files.writeString(bootstrap, yaml);
    Files.setPosixFilePermissions(bootstrap, PosixFilePermissions.fromString("rw-r--r--"));
    // pilot-agent's exact command line.
    return net.start(ns, PROXY_UID, work.resolve("sidecar-" + ns + ".log"), PodNetwork.sidecarCommand(bootstrap));
  }

  private static String curl(String ns, String... args) {
    List<String> cmd = new java.util.ArrayList<>(List.of("curl", "-s", "-m", "10", "--fail"));
    cmd.addAll(List.of(args));
    return net.exec(ns, cmd.toArray(String[]::new));
  }
}
