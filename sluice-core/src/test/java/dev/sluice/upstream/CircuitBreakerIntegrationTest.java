package dev.sluice.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Options;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ScriptedUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each circuit breaker of a cluster, through a full proxy to real backends that hold requests on
 * command: it trips at its threshold (503, flag UO, Envoy's overflow counter, the open and
 * remaining gauges) and recovers once the held requests complete.
 */
class CircuitBreakerIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<AutoCloseable> closing = new ArrayList<>();
  @TempDir Path dir;

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  private ScriptedUpstream backend(String name) throws InterruptedException {
    ScriptedUpstream b = ScriptedUpstream.holdingHang(name);
    closing.add(b);
    return b;
  }

  /** Cluster {@code c} over the backends with {@code thresholds}; route options; an access log of code and flags. */
  private Server start(String thresholds, String routeOptions, String protocolOptions, ScriptedUpstream... backends) {
    StringBuilder endpoints = new StringBuilder();
    for (ScriptedUpstream b : backends) {
      endpoints.append("            - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ")
          .append(b.port()).append("}}}\n");
    }
    Server server = TestServers.start(TestServers.bootstrap("""
        static_resources:
          clusters:
          - name: c
            type: STATIC
            connect_timeout: 5s
            circuit_breakers:
              thresholds: %s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http_protocol_options: {}}
                %s
            load_assignment:
              cluster_name: c
              endpoints:
              - lb_endpoints:
        %s
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: %s
                      log_format: {text_format_source: {inline_string: "%%RESPONSE_CODE%% %%RESPONSE_FLAGS%%\\n"}}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        route: {cluster: c %s}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        """.formatted(thresholds, protocolOptions, endpoints, dir.resolve("access.log"), routeOptions)),
        quickLogFlush());
    closing.add(server);
    return server;
  }

  /** {@link TestServers#options()} with access logs flushed every 20 ms, so the test reads them soon. */
  private static Options quickLogFlush() {
    Options d = TestServers.options();
    return new Options(d.configPath(), d.configYaml(), d.concurrency(), d.logLevel(),
        d.componentLogLevels(), d.logFormat(), d.logPath(), d.drainTime(), d.drainStrategy(),
        d.parentShutdownTime(), d.localAddressIpVersion(), Duration.ofMillis(20),
        d.allowUnknownStaticFields(), d.rejectUnknownDynamicFields(), d.serviceNode(),
        d.serviceCluster(), d.serviceZone(), d.baseId(), d.mode(), d.ignoredFlags());
  }

  private CompletableFuture<HttpResponse<String>> get(Server server, String path) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("http") + path))
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> getNow(Server server, String path) {
    return get(server, path).join();
  }

  private static long counter(Server server, String name) {
    return server.stats().counter("cluster.c." + name).value();
  }

  private static long gauge(Server server, String name) {
    return server.stats().gauge("cluster.c." + name).value();
  }

  private void awaitLogged(String line) {
    await().atMost(WAIT).until(() -> Files.exists(dir.resolve("access.log"))
        && Files.readAllLines(dir.resolve("access.log")).contains(line));
  }

  @Test
  void maxRequestsTripsAndRecovers() throws Exception {
    ScriptedUpstream b = backend("a");
    Server server = start("[{max_requests: 2, track_remaining: true}]", "", "", b);
    assertThat(gauge(server, "circuit_breakers.default.remaining_rq")).isEqualTo(2);
    var first = get(server, "/hang");
    var second = get(server, "/hang");
    await().atMost(WAIT).until(() -> b.held() == 2);
    assertThat(gauge(server, "circuit_breakers.default.rq_open")).isEqualTo(1);
    assertThat(gauge(server, "circuit_breakers.default.remaining_rq")).isZero();

    HttpResponse<String> overflow = getNow(server, "/x");
    assertThat(overflow.statusCode()).isEqualTo(503);
    assertThat(overflow.body()).contains("overflow");
    assertThat(overflow.headers().firstValue("x-envoy-overloaded")).hasValue("true");
    assertThat(counter(server, "upstream_rq_pending_overflow")).isEqualTo(1);
    awaitLogged("503 UO");

    b.release();
    assertThat(first.join().statusCode()).isEqualTo(200);
    assertThat(second.join().statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> gauge(server, "circuit_breakers.default.rq_open") == 0);
    assertThat(gauge(server, "circuit_breakers.default.remaining_rq")).isEqualTo(2);
    assertThat(getNow(server, "/x").statusCode()).isEqualTo(200);
  }

  @Test
  void maxConnectionsAndMaxPendingRequestsTripAndRecover() throws Exception {
    ScriptedUpstream b = backend("a");
    Server server = start("[{max_connections: 1, max_pending_requests: 1, track_remaining: true}]", "", "", b);
    var first = get(server, "/hang");
    await().atMost(WAIT).until(() -> b.held() == 1);
    assertThat(gauge(server, "circuit_breakers.default.cx_open")).isEqualTo(1);
    assertThat(gauge(server, "circuit_breakers.default.remaining_cx")).isZero();

    // The second request may not open a connection: it waits, filling the pending queue.
    var second = get(server, "/hang");
    await().atMost(WAIT).until(() -> gauge(server, "upstream_rq_pending_active") == 1);
    assertThat(counter(server, "upstream_cx_overflow")).isEqualTo(1);
    assertThat(gauge(server, "circuit_breakers.default.rq_pending_open")).isEqualTo(1);
    assertThat(gauge(server, "circuit_breakers.default.remaining_pending")).isZero();

    HttpResponse<String> overflow = getNow(server, "/x");
    assertThat(overflow.statusCode()).isEqualTo(503);
    assertThat(counter(server, "upstream_rq_pending_overflow")).isEqualTo(1);
    awaitLogged("503 UO");

    // The held request completes; the waiting one gets the connection, and is released in turn.
    b.release();
    assertThat(first.join().statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> b.held() == 1);
    assertThat(gauge(server, "circuit_breakers.default.rq_pending_open")).isZero();
    b.release();
    assertThat(second.join().statusCode()).isEqualTo(200);
    assertThat(b.connections.get()).isEqualTo(1);
    assertThat(getNow(server, "/x").statusCode()).isEqualTo(200);
    assertThat(gauge(server, "circuit_breakers.default.remaining_pending")).isEqualTo(1);
  }

  @Test
  void maxConnectionPoolsTripsAndRecoversWhenAPoolGoesIdle() throws Exception {
    ScriptedUpstream a = backend("a");
    ScriptedUpstream b = backend("b");
    Server server = start("[{max_connection_pools: 1, track_remaining: true}]", "",
        "common_http_protocol_options: {idle_timeout: 0.2s}", a, b);
    // Round robin: the first request opens host a's pool, the second needs one for host b.
    var held = get(server, "/hang");
    await().atMost(WAIT).until(() -> a.held() + b.held() == 1);
    assertThat(gauge(server, "circuit_breakers.default.cx_pool_open")).isEqualTo(1);
    assertThat(gauge(server, "circuit_breakers.default.remaining_cx_pools")).isZero();
    HttpResponse<String> overflow = getNow(server, "/x");
    assertThat(overflow.statusCode()).isEqualTo(503);
    assertThat(overflow.headers().firstValue("x-envoy-overloaded")).hasValue("true");
    assertThat(counter(server, "upstream_cx_pool_overflow")).isEqualTo(1);
    awaitLogged("503 UO");

    a.release();
    b.release();
    assertThat(held.join().statusCode()).isEqualTo(200);
    // Once the first pool's connection idles out, the pool is closed to make room for the other
    // (polls slower than the idle timeout: round robin sends every other one to the first host).
    await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() -> {
      HttpResponse<String> r = getNow(server, "/x");
      return r.statusCode() == 200 && r.headers().firstValue("x-backend").orElse("").equals(
          held.join().headers().firstValue("x-backend").orElse("").equals("a") ? "b" : "a");
    });
    assertThat(gauge(server, "circuit_breakers.default.cx_pool_open")).isEqualTo(1);
  }

  @Test
  void theRoutePriorityPicksTheHighPriorityThresholds() throws Exception {
    ScriptedUpstream b = backend("a");
    Server server = start("[{priority: HIGH, max_requests: 1, track_remaining: true}, {max_requests: 5}]",
        ", priority: HIGH", "", b);
    var first = get(server, "/hang");
    await().atMost(WAIT).until(() -> b.held() == 1);
    assertThat(gauge(server, "circuit_breakers.high.rq_open")).isEqualTo(1);
    assertThat(gauge(server, "circuit_breakers.high.remaining_rq")).isZero();
    assertThat(gauge(server, "circuit_breakers.default.rq_open")).isZero();
    assertThat(getNow(server, "/x").statusCode()).isEqualTo(503);
    b.release();
    assertThat(first.join().statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> gauge(server, "circuit_breakers.high.rq_open") == 0);
    assertThat(getNow(server, "/x").statusCode()).isEqualTo(200);
  }
}
