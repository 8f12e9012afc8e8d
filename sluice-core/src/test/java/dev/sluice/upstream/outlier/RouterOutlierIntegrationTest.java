package dev.sluice.upstream.outlier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import dev.sluice.upstream.ClusterImpl;
import dev.sluice.upstream.ClusterManagerImpl;
import dev.sluice.upstream.HostImpl;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Outlier detection fed by the router through a full in-process proxy: real upstream 5xx and
 * gateway errors ({@link TestBackend}'s {@code /status/NNN}), stream resets ({@code /close}) and
 * refused connections, with and without {@code split_external_local_origin_errors}; ejections seen
 * in {@code /clusters} and re-admissions after an ejection time that grows with each ejection.
 */
class RouterOutlierIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  /** Cluster {@code c} of one host on {@code port} with {@code outlier} (YAML flow map body). */
  private Server start(String outlier, int port) {
    Server server = TestServers.start("""
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
          - name: c
            type: STATIC
            connect_timeout: 1s
            outlier_detection: {%s}
            load_assignment:
              cluster_name: c
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          listeners:
        %s""".formatted(outlier, port, ProxyYaml.listener("l", "c")));
    closing.add(server);
    return server;
  }

  private TestBackend backend() throws InterruptedException {
    TestBackend b = new TestBackend("b");
    closing.add(b);
    return b;
  }

  private static int deadPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private int get(Server server, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("l") + path))
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private String flags(Server server) throws Exception {
    String clusters = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + "/clusters"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    return clusters.lines().filter(l -> l.startsWith("c::127.0.0.1:") && l.contains("::health_flags::"))
        .map(l -> l.substring(l.lastIndexOf("::") + 2)).findFirst().orElseThrow();
  }

  private static long counter(Server server, String name) {
    return server.stats().counter("cluster.c.outlier_detection." + name).value();
  }

  private static long ejectionsActive(Server server) {
    return server.stats().gauge("cluster.c.outlier_detection.ejections_active").value();
  }

  /** The host's outlier monitor, to read its runs (the cluster has one host). */
  private static HostMonitor monitor(Server server) throws Exception {
    var field = Server.class.getDeclaredField("clusterManager");
    field.setAccessible(true);
    ClusterImpl c = (ClusterImpl) ((ClusterManagerImpl) field.get(server)).get("c");
    HostImpl host = (HostImpl) c.hostsByPriority().getFirst().getFirst();
    return (HostMonitor) host.outlierMonitor();
  }

  @Test
  void consecutive5xxFromTheUpstreamEjectAndTheEjectionTimeGrows() throws Exception {
    TestBackend b = backend();
    long base = 300;
    // One host and max_ejection_percent 100: the ejected host is still used (panic), so traffic
    // keeps flowing and every failure after the re-admission counts toward the next ejection.
    Server server = start("consecutive_5xx: 3, interval: 0.01s, base_ejection_time: 0.3s, max_ejection_percent: 100", b.port());
    assertThat(get(server, "/status/500")).isEqualTo(500);
    assertThat(get(server, "/status/500")).isEqualTo(500);
    // A success ends the run.
    assertThat(get(server, "/x")).isEqualTo(200);
    assertThat(monitor(server).consecutive5xx.get()).isZero();

    long[] first = ejectAndReadmit(server, 1);
    assertThat(counter(server, "ejections_enforced_consecutive_5xx")).isEqualTo(1);
    long[] second = ejectAndReadmit(server, 2);
    assertThat(counter(server, "ejections_enforced_consecutive_5xx")).isEqualTo(2);
    // Each span starts before the ejection and ends after the re-admission: it bounds the real
    // ejection from above, so base x 1 and base x 2 are lower bounds.
    assertThat(first[1] - first[0]).isGreaterThanOrEqualTo(base);
    assertThat(second[1] - second[0]).isGreaterThanOrEqualTo(2 * base);
    assertThat(monitor(server).numEjections()).isEqualTo(2);
  }

  /**
   * Sends 5xx until ejection number {@code n} (checking {@code /clusters} shows it), then until the
   * re-admission; returns the time (ms) just before the request that ejected and the time the
   * re-admission was seen.
   */
  private long[] ejectAndReadmit(Server server, int n) throws Exception {
    long[] before = {0};
    await().atMost(WAIT).pollInterval(Duration.ofMillis(1)).until(() -> {
      before[0] = System.nanoTime();
      get(server, "/status/500");
      return counter(server, "ejections_enforced_total") == n;
    });
    assertThat(flags(server)).isEqualTo("/failed_outlier_check");
    assertThat(ejectionsActive(server)).isEqualTo(1);
    await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> ejectionsActive(server) == 0);
    long readmitted = System.nanoTime();
    assertThat(flags(server)).isEqualTo("healthy");
    return new long[] {before[0] / 1_000_000, readmitted / 1_000_000};
  }

  @Test
  void consecutiveGatewayFailuresEjectAndOther5xxBreakTheRun() throws Exception {
    TestBackend b = backend();
    Server server = start("consecutive_5xx: 1000, consecutive_gateway_failure: 3,"
        + " enforcing_consecutive_gateway_failure: 100, interval: 1s, base_ejection_time: 30s, max_ejection_percent: 100",
        b.port());
    assertThat(get(server, "/status/503")).isEqualTo(503);
    assertThat(get(server, "/status/502")).isEqualTo(502);
    // A 500 is a 5xx but no gateway failure: the gateway run starts over.
    assertThat(get(server, "/status/500")).isEqualTo(500);
    assertThat(monitor(server).consecutiveGatewayFailure.get()).isZero();
    assertThat(monitor(server).consecutive5xx.get()).isEqualTo(3);
    assertThat(get(server, "/status/504")).isEqualTo(504);
    assertThat(get(server, "/status/503")).isEqualTo(503);
    assertThat(counter(server, "ejections_enforced_total")).isZero();
    assertThat(get(server, "/status/502")).isEqualTo(502);
    await().atMost(WAIT).until(() -> counter(server, "ejections_enforced_consecutive_gateway_failure") == 1);
    assertThat(counter(server, "ejections_detected_consecutive_gateway_failure")).isEqualTo(1);
    assertThat(flags(server)).isEqualTo("/failed_outlier_check");
  }

  @Test
  void withoutSplitAResetIsA503AndAConnectFailureCountsOnce() throws Exception {
    TestBackend b = backend();
    Server server = start("consecutive_5xx: 1000, interval: 1s", b.port());
    // The upstream closes without answering: the router reports the reset once, as a 503.
    assertThat(get(server, "/close")).isEqualTo(503);
    assertThat(monitor(server).consecutive5xx.get()).isEqualTo(1);
    assertThat(monitor(server).consecutiveGatewayFailure.get()).isEqualTo(1);

    Server dead = start("consecutive_5xx: 1000, interval: 1s", deadPort());
    // A refused connection is reported by the pool only, not again by the router.
    assertThat(get(dead, "/x")).isEqualTo(503);
    assertThat(monitor(dead).consecutive5xx.get()).isEqualTo(1);
    assertThat(get(dead, "/x")).isEqualTo(503);
    assertThat(monitor(dead).consecutive5xx.get()).isEqualTo(2);
  }

  @Test
  void withSplitLocalOriginFailuresHaveTheirOwnRunAndEject() throws Exception {
    TestBackend b = backend();
    String split = "split_external_local_origin_errors: true, consecutive_local_origin_failure: 2,"
        + " consecutive_5xx: 1000, interval: 1s, base_ejection_time: 30s, max_ejection_percent: 100";
    Server server = start(split, b.port());
    // A reset is a local-origin failure, not a 5xx; the connection that preceded it was a
    // local-origin success (Envoy: so resets after a good connect alone never eject).
    assertThat(get(server, "/close")).isEqualTo(503);
    assertThat(monitor(server).consecutiveLocalOriginFailure.get()).isEqualTo(1);
    assertThat(monitor(server).consecutive5xx.get()).isZero();
    assertThat(get(server, "/status/500")).isEqualTo(500);
    assertThat(monitor(server).consecutive5xx.get()).isEqualTo(1);
    assertThat(monitor(server).consecutiveLocalOriginFailure.get()).isZero();

    Server dead = start(split, deadPort());
    assertThat(get(dead, "/x")).isEqualTo(503);
    // Counted once (the pool reports it; the router does not again): no ejection yet.
    assertThat(monitor(dead).consecutiveLocalOriginFailure.get()).isEqualTo(1);
    assertThat(monitor(dead).consecutive5xx.get()).isZero();
    assertThat(get(dead, "/x")).isEqualTo(503);
    await().atMost(WAIT).until(() -> counter(dead, "ejections_enforced_consecutive_local_origin_failure") == 1);
    assertThat(counter(dead, "ejections_enforced_total")).isEqualTo(1);
    assertThat(counter(dead, "ejections_enforced_consecutive_5xx")).isZero();
    assertThat(flags(dead)).isEqualTo("/failed_outlier_check");
  }
}
