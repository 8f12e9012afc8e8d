package dev.sluice.it.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.it.Distribution;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A pod in Istio's TPROXY interception mode ({@code sidecar.istio.io/interceptionMode: TPROXY}):
 * the mangle and nat rules of istio-iptables' {@code inbound-ports-wildcard-tproxy} golden, the
 * policy routing it adds for TPROXY ({@code ip -f inet rule add fwmark 1337 lookup 133},
 * {@code ip -f inet route add local default dev lo table 133}), the real Sluice distribution as
 * the injector runs the proxy in that mode (uid 0, gid 1337, only CAP_NET_ADMIN), a sidecar
 * bootstrap in istiod's TPROXY shape and the JDK's jwebserver as the app. A client pod without a
 * sidecar calls the app's pod IP.
 *
 * <pre>
 *   pod a (client, no sidecar) 10.45.1.1 --- pod b 10.45.1.2: app :9080 (HTTP chain), :7000 (no chain)
 * </pre>
 *
 * Needs root, iproute2, iptables (with the TPROXY target), setpriv and curl; skipped otherwise.
 */
class TproxyInterceptionTest {
  private static final String CLIENT_IP = "10.45.1.1";
  private static final String POD_IP = "10.45.1.2";
  private static PodNetwork net;
  private static Path work;
  private static String a;
  private static String b;

  @BeforeAll
  static void startPods() throws Exception {
    PodNetwork.assumeUsable("network namespace tests need root (Istio's iptables rules, IP_TRANSPARENT)");
    work = Files.createTempDirectory("sluice-tproxy");
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxrwxrwx"));
    net = new PodNetwork();
    a = net.addPod("a");
    b = net.addPod("b");
    net.link(a, CLIENT_IP, b, POD_IP);
    net.iptables(b, istioTproxyRules());
    // istio-iptables' TPROXY routes (tools/common/tproxy): marked packets are delivered locally.
    net.exec(b, "ip", "-f", "inet", "rule", "add", "fwmark", "1337", "lookup", "133");
    net.exec(b, "ip", "-f", "inet", "route", "add", "local", "default", "dev", "lo", "table", "133");
    app(b, 9080, "reviews");
    app(b, 7000, "metrics");
    sidecar(b);
    net.awaitSidecarReady(b);
    for (int port : List.of(9080, 7000)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> net.tryExec(b, "curl", "-s", "-o", "/dev/null",
          "http://127.0.0.1:" + port + "/id.txt").exitCode() == 0);
    }
  }

  @AfterAll
  static void stopPods() throws Exception {
    if (net != null) {
      net.close();
    }
  }

  @Test
  void inboundCallIsTproxiedToTheSidecarAndReachesTheAppFromTheClientsOwnAddress() throws IOException {
    assertThat(curl(a, "http://" + POD_IP + ":9080/id.txt")).isEqualTo("reviews");
    assertThat(curl(a, "http://" + POD_IP + ":9080/id.txt")).isEqualTo("reviews");

    // Intercepted on 15006 (a transparent socket: TPROXY, no NAT), the chain chosen by the original
    // destination port, routed by the inbound route to the ORIGINAL_DST cluster.
    assertThat(net.sidecarStat(b, "listener.0.0.0.0_15006.downstream_cx_total")).isGreaterThanOrEqualTo(2);
    assertThat(net.sidecarStat(b, "http.inbound_0.0.0.0_9080.downstream_rq_2xx")).isGreaterThanOrEqualTo(2);
    assertThat(net.sidecarStat(b, "cluster.inbound|9080||.upstream_rq_200")).isGreaterThanOrEqualTo(2);
    // original_src: the app saw the client's address, not 127.0.0.6 (upstream_bind_config).
    String appLog = Files.readString(work.resolve("app-9080.log"));
    assertThat(appLog).contains(CLIENT_IP + " - - ").doesNotContain("127.0.0.6");
  }

  @Test
  void portWithoutAChainPassesThroughAsTcpFromTheClientsAddress() throws IOException {
    assertThat(curl(a, "http://" + POD_IP + ":7000/id.txt")).isEqualTo("metrics");
    assertThat(net.sidecarStat(b, "tcp.InboundPassthroughCluster.downstream_cx_total")).isGreaterThanOrEqualTo(1);
    assertThat(net.sidecarStat(b, "cluster.InboundPassthroughCluster.upstream_cx_total")).isGreaterThanOrEqualTo(1);
    assertThat(Files.readString(work.resolve("app-7000.log"))).contains(CLIENT_IP + " - - ");
  }

  /**
   * The golden's mangle (TPROXY to 15006, mark 1337, connmark save/restore) and nat tables, plus
   * the final outbound jump a default install adds ({@code -i '*'}), as {@link PodNamespacesTest}.
   */
  private static String istioTproxyRules() throws IOException {
    String golden = Files.readString(Distribution.istioData().resolve("iptables/inbound-ports-wildcard-tproxy.golden"));
    int mangle = golden.indexOf("* mangle");
    int nat = golden.indexOf("* nat");
    int natEnd = golden.indexOf("COMMIT", nat);
    return golden.substring(mangle, nat) + golden.substring(nat, natEnd) + "-A ISTIO_OUTPUT -j ISTIO_REDIRECT\nCOMMIT\n";
  }

  private static void app(String ns, int port, String id) throws IOException {
    Path dir = Files.createDirectories(work.resolve("www-" + port));
    Files.writeString(dir.resolve("id.txt"), id);
    Path jwebserver = Distribution.javaHome().resolve("bin/jwebserver");
    net.start(ns, null, work.resolve("app-" + port + ".log"),
        List.of(jwebserver.toString(), "-b", "0.0.0.0", "-p", Integer.toString(port), "-d", dir.toString(), "-o", "info"));
  }

  /**
   * The proxy as Istio's injector runs it in TPROXY mode: uid 0, gid 1337 (the rules skip gid
   * 1337), every capability dropped but NET_ADMIN; pilot-agent's command line.
   */
  private static void sidecar(String ns) throws IOException {
    String template;
    try (InputStream in = Objects.requireNonNull(TproxyInterceptionTest.class.getResourceAsStream("/netns/sidecar-tproxy.yaml"))) {
      template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Path bootstrap = work.resolve("envoy-" + ns + ".yaml");
    Files.writeString(bootstrap, template.replace("${POD_IP}", POD_IP).replace("${POD}", ns));
    List<String> cmd = new ArrayList<>(List.of("setpriv", "--regid=1337", "--clear-groups", "--bounding-set=-all,+net_admin"));
    cmd.addAll(PodNetwork.sidecarCommand(bootstrap));
    net.start(ns, null, work.resolve("sidecar-" + ns + ".log"), cmd);
  }

  private static String curl(String ns, String url) {
    return net.exec(ns, "curl", "-s", "-m", "10", "--fail", url);
  }
}
