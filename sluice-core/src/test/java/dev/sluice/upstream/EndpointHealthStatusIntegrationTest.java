package dev.sluice.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code health_status} a load assignment gives its endpoints (what EDS sends), honoured by the
 * load balancer through a full proxy: UNHEALTHY, DRAINING and TIMEOUT hosts get no traffic,
 * DEGRADED ones only for the load the healthy hosts cannot take (Envoy's overprovisioned priority
 * load); {@code /clusters} shows why.
 */
class EndpointHealthStatusIntegrationTest {
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  private TestBackend backend(String name) throws InterruptedException {
    TestBackend b = new TestBackend(name);
    closing.add(b);
    return b;
  }

  /** Cluster {@code c} with one endpoint per backend, each with its health_status. */
  private Server start(Object... backendAndStatus) {
    StringBuilder endpoints = new StringBuilder();
    for (int i = 0; i < backendAndStatus.length; i += 2) {
      endpoints.append(endpoints.isEmpty() ? "" : ", ")
          .append("{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ")
          .append(((TestBackend) backendAndStatus[i]).port()).append("}}}, health_status: ")
          .append(backendAndStatus[i + 1]).append('}');
    }
    Server server = TestServers.start("""
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: c
            type: STATIC
            connect_timeout: 1s
            common_lb_config: {healthy_panic_threshold: {value: 0}}
            load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [%s]}]}
          listeners:
        %s""".formatted(endpoints, ProxyYaml.listener("l", "c")));
    closing.add(server);
    return server;
  }

  /** Which backends answered {@code n} requests. */
  private Map<String, Integer> spread(Server server, int n) throws Exception {
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.listenerPort("l") + "/x")).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      seen.merge(r.headers().firstValue("x-backend").orElse(Integer.toString(r.statusCode())), 1, Integer::sum);
    }
    return seen;
  }

  private String flags(Server server, TestBackend b) throws Exception {
    String prefix = "c::127.0.0.1:" + b.port() + "::health_flags::";
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + "/clusters")).build(),
        HttpResponse.BodyHandlers.ofString()).body().lines().filter(l -> l.startsWith(prefix))
        .map(l -> l.substring(prefix.length())).findFirst().orElseThrow();
  }

  @Test
  void unhealthyDrainingAndTimeoutHostsGetNoTraffic() throws Exception {
    TestBackend unhealthy = backend("unhealthy");
    TestBackend draining = backend("draining");
    TestBackend timeout = backend("timeout");
    TestBackend healthy = backend("healthy");
    TestBackend unknown = backend("unknown");
    Server server = start(unhealthy, "UNHEALTHY", draining, "DRAINING", timeout, "TIMEOUT", healthy, "HEALTHY",
        unknown, "UNKNOWN");
    assertThat(spread(server, 10)).containsOnlyKeys("healthy", "unknown").containsValues(5, 5);
    assertThat(flags(server, draining)).isEqualTo("/failed_eds_health");
    assertThat(flags(server, timeout)).isEqualTo("/failed_eds_health");
    assertThat(flags(server, unknown)).isEqualTo("healthy");
    assertThat(unhealthy.requests.get() + draining.requests.get() + timeout.requests.get()).isZero();
  }

  @Test
  void degradedHostsServeOnlyTheLoadHealthyOnesCannotTake() throws Exception {
    TestBackend degraded = backend("degraded");
    TestBackend healthy = backend("healthy");
    // Three of four healthy: x 1.4 overprovisioning, the healthy hosts take the whole load.
    Server withHealthy = start(degraded, "DEGRADED", healthy, "HEALTHY", healthy, "HEALTHY", healthy, "HEALTHY");
    assertThat(spread(withHealthy, 6)).containsOnlyKeys("healthy");
    assertThat(flags(withHealthy, degraded)).isEqualTo("/degraded_eds_health");

    TestBackend down = backend("down");
    Server degradedOnly = start(degraded, "DEGRADED", down, "UNHEALTHY");
    assertThat(spread(degradedOnly, 4)).containsOnlyKeys("degraded");
  }
}
