package dev.sluice.upstream.outlier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Outlier detection through a full in-process proxy: connection pools report connect failures to
 * a dead host, which is ejected (FAILED_OUTLIER_CHECK in {@code /clusters}), stops getting traffic,
 * is re-admitted after its ejection time, and is ejected again.
 */
class OutlierDetectionIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private String admin(Server server, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private String flags(Server server, String address) throws Exception {
    String prefix = "c::" + address + "::health_flags::";
    return admin(server, "/clusters").lines().filter(l -> l.startsWith(prefix))
        .map(l -> l.substring(prefix.length())).findFirst().orElseThrow();
  }

  private int get(Server server) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("l") + "/x"))
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static long stat(Server server, String name) {
    return server.stats().counter("cluster.c.outlier_detection." + name).value();
  }

  @Test
  void aHostThatRefusesConnectionsIsEjectedReadmittedAndEjectedAgain() throws Exception {
    int dead;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      dead = s.getLocalPort();
    }
    try (TestBackend live = new TestBackend("live");
         Server server = TestServers.start("""
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
          - name: c
            type: STATIC
            connect_timeout: 1s
            outlier_detection:
              consecutive_5xx: 2
              interval: 0.05s
              base_ejection_time: 1s
              max_ejection_percent: 50
            load_assignment:
              cluster_name: c
              endpoints: [{lb_endpoints: [
                {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}},
                {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          listeners:
        %s""".formatted(live.port(), dead, ProxyYaml.listener("l", "c")))) {
      String deadAddress = "127.0.0.1:" + dead;
      assertThat(admin(server, "/clusters")).contains("c::outlier::success_rate_average::-1\n")
          .contains("c::" + deadAddress + "::success_rate::-1\n");

      // Round robin: every other request meets the refused connection until the host is ejected.
      await().atMost(WAIT).until(() -> {
        get(server);
        return stat(server, "ejections_enforced_total") == 1;
      });
      assertThat(flags(server, deadAddress)).isEqualTo("/failed_outlier_check");
      assertThat(stat(server, "ejections_enforced_consecutive_5xx")).isEqualTo(1);
      assertThat(stat(server, "ejections_detected_consecutive_5xx")).isEqualTo(1);
      assertThat(admin(server, "/clusters?format=json")).contains("\"failed_outlier_check\": true");
      // Ejected for a second: the traffic goes to the live host only.
      int before = live.requests.get();
      for (int i = 0; i < 4; i++) {
        assertThat(get(server)).isEqualTo(200);
      }
      assertThat(live.requests.get()).isEqualTo(before + 4);

      // Re-admitted after base_ejection_time, then ejected again by new failures.
      await().atMost(WAIT).until(() -> flags(server, deadAddress).equals("healthy"));
      await().atMost(WAIT).until(() -> {
        get(server);
        return stat(server, "ejections_enforced_total") == 2;
      });
      assertThat(server.stats().gauge("cluster.c.outlier_detection.ejections_active").value()).isEqualTo(1);
    }
  }
}
