package dev.sluice.extensions.filters.http.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Options;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.ScriptedUpstream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The router's retries, timeouts and mirrors end to end: a full in-process server in front of
 * real upstreams that fail on command ({@link ScriptedUpstream}), a real HTTP client, Envoy's
 * stats read from the server and response flags from its access log.
 */
class RouterRetryIntegrationTest {
  @TempDir static Path dir;
  static ScriptedUpstream a;
  static ScriptedUpstream b;
  static ScriptedUpstream c;
  static ScriptedUpstream mirror;
  static int deadPort;
  static Server server;
  static Path accessLog;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    a = new ScriptedUpstream("a");
    b = new ScriptedUpstream("b");
    c = new ScriptedUpstream("c");
    mirror = new ScriptedUpstream("mirror", "x-mirror-script");
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    accessLog = dir.resolve("access.log");
    String fast = "retry_back_off: {base_interval: 0.002s, max_interval: 0.005s}";
    String yaml = ("""
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          listeners:
        """ + ProxyYaml.hcmListener("l", "in", """
                  access_log:
                  - name: envoy.access_loggers.file
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                      path: "%1$s"
                      log_format: {text_format_source: {inline_string: "%%REQ(X-KEY)%% %%RESPONSE_CODE%% %%RESPONSE_FLAGS%% %%RESPONSE_CODE_DETAILS%% %%UPSTREAM_REQUEST_ATTEMPT_COUNT%%\\n"}}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      include_request_attempt_count: true
                      include_attempt_count_in_response: true
                      routes:
                      - {match: {prefix: /5xx/}, route: {cluster: one, retry_policy: {retry_on: 5xx, num_retries: 2, %2$s}}}
                      - {match: {prefix: /gw/}, route: {cluster: one, retry_policy: {retry_on: gateway-error, %2$s}}}
                      - {match: {prefix: /4xx/}, route: {cluster: one, retry_policy: {retry_on: retriable-4xx, %2$s}}}
                      - {match: {prefix: /codes/}, route: {cluster: one, retry_policy: {retry_on: retriable-status-codes, retriable_status_codes: [418], %2$s}}}
                      - {match: {prefix: /hdrs/}, route: {cluster: one, retry_policy: {retry_on: retriable-headers, retriable_headers: [{name: x-retry-me}], %2$s}}}
                      - {match: {prefix: /reset/}, route: {cluster: one, retry_policy: {retry_on: reset, %2$s}}}
                      - {match: {prefix: /rbr/}, route: {cluster: one, retry_policy: {retry_on: reset-before-request, %2$s}}}
                      - {match: {prefix: /refused/}, route: {cluster: one, retry_policy: {retry_on: refused-stream, %2$s}}}
                      - {match: {prefix: /connect/}, route: {cluster: dead, retry_policy: {retry_on: connect-failure, %2$s}}}
                      - {match: {prefix: /rbr-connect/}, route: {cluster: dead, retry_policy: {retry_on: reset-before-request, %2$s}}}
                      - {match: {prefix: /none/}, route: {cluster: one}}
                      - {match: {prefix: /route-idle/}, route: {cluster: one, idle_timeout: 0.1s}}
                      - {match: {prefix: /pertry/}, route: {cluster: one, timeout: 5s, retry_policy: {retry_on: 5xx, per_try_timeout: 0.1s, %2$s}}}
                      - {match: {prefix: /pertry-only/}, route: {cluster: one, timeout: 5s, retry_policy: {retry_on: retriable-4xx, per_try_timeout: 0.1s, %2$s}}}
                      - {match: {prefix: /idle/}, route: {cluster: one, timeout: 5s, retry_policy: {retry_on: retriable-4xx, per_try_idle_timeout: 0.1s, %2$s}}}
                      - {match: {prefix: /global/}, route: {cluster: one, timeout: 0.15s, retry_policy: {retry_on: 5xx, num_retries: 100, %2$s}}}
                      - {match: {prefix: /buffer/}, per_request_buffer_limit_bytes: 16, route: {cluster: one, retry_policy: {retry_on: 5xx, %2$s}}}
                      - {match: {prefix: /hosts/}, route: {cluster: three, retry_policy: {retry_on: 5xx, num_retries: 2, %2$s, retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}], host_selection_retry_max_attempts: 200}}}
                      - {match: {prefix: /overflow/}, route: {cluster: nobudget, retry_policy: {retry_on: 5xx, %2$s}}}
                      - {match: {prefix: /mirror/}, route: {cluster: one, request_mirror_policies: [{cluster: mirror}]}}
                      - {match: {prefix: /mirror-dead/}, route: {cluster: one, request_mirror_policies: [{cluster: dead}]}}
                      - {match: {prefix: /mirror-never/}, route: {cluster: one, request_mirror_policies: [{cluster: mirror, runtime_fraction: {default_value: {numerator: 0}}}]}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  """) + """
          clusters:
          - {name: one, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: one, endpoints: [{lb_endpoints: [%3$s]}]}}
          - {name: mirror, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: mirror, endpoints: [{lb_endpoints: [%4$s]}]}}
          - {name: dead, type: STATIC, connect_timeout: 1s, load_assignment: {cluster_name: dead, endpoints: [{lb_endpoints: [%5$s]}]}}
          - {name: three, type: STATIC, lb_policy: RANDOM, connect_timeout: 1s, load_assignment: {cluster_name: three, endpoints: [{lb_endpoints: [%3$s, %6$s, %7$s]}]}}
          - name: nobudget
            type: STATIC
            connect_timeout: 1s
            circuit_breakers: {thresholds: [{max_retries: 0}]}
            load_assignment: {cluster_name: nobudget, endpoints: [{lb_endpoints: [%3$s]}]}
        """).formatted(accessLog, fast, endpoint(a.port()), endpoint(mirror.port()), endpoint(deadPort),
            endpoint(b.port()), endpoint(c.port()));
    Options d = TestServers.options();
    Options options = new Options(null, null, 1, d.logLevel(), Map.of(), null, null, Duration.ofSeconds(1),
        d.drainStrategy(), d.parentShutdownTime(), d.localAddressIpVersion(), Duration.ofMillis(10), false, false,
        null, null, null, 0, Options.Mode.SERVE, List.of());
    server = TestServers.start(TestServers.bootstrap(yaml), options);
  }

  private static String endpoint(int port) {
    return "{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}".formatted(port);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    for (ScriptedUpstream u : new ScriptedUpstream[] {a, b, c, mirror}) {
      if (u != null) {
        u.close();
      }
    }
  }

  private static long counter(String name) {
    return server.stats().counter(name).value();
  }

  /** A request with its own key, so the upstream runs {@code script} for this request's attempts. */
  private static HttpResponse<String> send(String path, String key, String script, Map<String, String> headers, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("l") + path))
        .timeout(Duration.ofSeconds(10))
        .header("x-key", key)
        .header("x-script", script);
    headers.forEach(r::header);
    r.method(body == null ? "GET" : "POST", body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return client.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> send(String path, String key, String script) throws IOException, InterruptedException {
    return send(path, key, script, Map.of(), null);
  }

  private static String key() {
    return UUID.randomUUID().toString();
  }

  /** The access log line of a request: {@code code flags details attempts}. */
  private static String logLine(String key) {
    return await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(accessLog)
            ? Files.readAllLines(accessLog).stream().filter(l -> l.startsWith(key + " ")).findFirst().orElse(null)
            : null,
        l -> l != null).substring(key.length() + 1);
  }

  @ParameterizedTest(name = "{0} with upstream {1}: retried={2}")
  @CsvSource({
      "/5xx/, 503, true", "/5xx/, 500, true", "/5xx/, 404, false", "/5xx/, close, true",
      "/gw/, 502, true", "/gw/, 503, true", "/gw/, 504, true", "/gw/, 500, false", "/gw/, rst, true",
      "/4xx/, 409, true", "/4xx/, 404, false", "/4xx/, 503, false", "/4xx/, close, false",
      "/codes/, 418, true", "/codes/, 503, false",
      "/hdrs/, hdr, true", "/hdrs/, 503, false",
      "/reset/, close, true", "/reset/, rst, true", "/reset/, 503, false",
      "/rbr/, close, false", "/refused/, close, false", "/refused/, 503, false",
  })
  void eachConditionRetriesItsFailuresAndOnlyThose(String prefix, String failure, boolean retried) throws Exception {
    String k = key();
    HttpResponse<String> r = send(prefix + "x", k, failure + ",ok");
    assertThat(a.count(k)).isEqualTo(retried ? 2 : 1);
    if (retried) {
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("x-envoy-attempt-count")).contains("2");
      assertThat(r.headers().firstValue("x-attempt")).contains("1");
    } else {
      assertThat(r.statusCode()).isNotEqualTo(200);
      assertThat(r.headers().firstValue("x-envoy-attempt-count")).contains("1");
    }
  }

  @Test
  void retriedAttemptsCountAndTellTheUpstreamTheirNumber() throws Exception {
    long retries = counter("cluster.one.upstream_rq_retry");
    long success = counter("cluster.one.upstream_rq_retry_success");
    long backoffs = counter("cluster.one.upstream_rq_retry_backoff_exponential");
    String k = key();
    HttpResponse<String> r = send("/5xx/x", k, "503,503,ok");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-envoy-attempt-count")).contains("3");
    assertThat(a.seen.stream().filter(s -> s.key().equals(k)).map(s -> s.headers().get("x-envoy-attempt-count")))
        .containsExactly("1", "2", "3");
    assertThat(counter("cluster.one.upstream_rq_retry") - retries).isEqualTo(2);
    assertThat(counter("cluster.one.upstream_rq_retry_success") - success).isEqualTo(1);
    assertThat(counter("cluster.one.upstream_rq_retry_backoff_exponential") - backoffs).isEqualTo(2);
    assertThat(logLine(k)).isEqualTo("200 - via_upstream 3");
  }

  @Test
  void exhaustedRetriesReturnTheLastResponseWithFlagUrx() throws Exception {
    long exceeded = counter("cluster.one.upstream_rq_retry_limit_exceeded");
    String k = key();
    HttpResponse<String> r = send("/5xx/x", k, "503");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("a:");
    assertThat(a.count(k)).isEqualTo(3);
    assertThat(counter("cluster.one.upstream_rq_retry_limit_exceeded") - exceeded).isEqualTo(1);
    assertThat(logLine(k)).isEqualTo("503 URX via_upstream 3");
  }

  @Test
  void connectFailuresRetryThenAnswer503WithFlagUf() throws Exception {
    long retries = counter("cluster.dead.upstream_rq_retry");
    String k = key();
    HttpResponse<String> r = send("/connect/x", k, "ok");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).startsWith("upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection failure");
    assertThat(counter("cluster.dead.upstream_rq_retry") - retries).isEqualTo(1);
    assertThat(logLine(k)).startsWith("503 UF,URX upstream_reset_before_response_started{connection_failure} 2");
    // reset-before-request covers a connection that never carried the request.
    long before = counter("cluster.dead.upstream_rq_retry");
    assertThat(send("/rbr-connect/x", key(), "ok").statusCode()).isEqualTo(503);
    assertThat(counter("cluster.dead.upstream_rq_retry") - before).isEqualTo(1);
  }

  @Test
  void aRetryLandsOnAnotherHostWithPreviousHosts() throws Exception {
    for (int i = 0; i < 5; i++) {
      String k = key();
      assertThat(send("/hosts/x", k, "503").statusCode()).isEqualTo(503);
      // Three attempts, one on each of the three hosts, whatever the random balancer would pick.
      assertThat(List.of(a.count(k), b.count(k), c.count(k))).containsExactly(1, 1, 1);
    }
  }

  @Test
  void requestHeadersEnableRetriesAndAreNotForwarded() throws Exception {
    String k = key();
    HttpResponse<String> r = send("/none/x", k, "503", Map.of("x-envoy-retry-on", "5xx", "x-envoy-max-retries", "3"), null);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(a.count(k)).isEqualTo(4);
    assertThat(a.seen.stream().filter(s -> s.key().equals(k)))
        .allSatisfy(s -> assertThat(s.headers()).doesNotContainKeys("x-envoy-retry-on", "x-envoy-max-retries"));
    // Without a header or a policy, nothing is retried.
    String once = key();
    assertThat(send("/none/x", once, "503").statusCode()).isEqualTo(503);
    assertThat(a.count(once)).isEqualTo(1);
    // The retriable codes header widens retriable-status-codes.
    String codes = key();
    assertThat(send("/none/x", codes, "418,ok",
        Map.of("x-envoy-retry-on", "retriable-status-codes", "x-envoy-retriable-status-codes", "418"), null).statusCode())
        .isEqualTo(200);
    assertThat(a.count(codes)).isEqualTo(2);
  }

  @Test
  void timeoutHeadersOverrideTheRoute() throws Exception {
    String k = key();
    long start = System.nanoTime();
    HttpResponse<String> r = send("/none/x", k, "hang", Map.of("x-envoy-upstream-rq-timeout-ms", "100"), null);
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    assertThat(logLine(k)).isEqualTo("504 UT upstream_response_timeout 1");
    assertThat(a.seen.stream().filter(s -> s.key().equals(k)).findFirst().orElseThrow().headers())
        .containsEntry("x-envoy-expected-rq-timeout-ms", "100")
        .doesNotContainKey("x-envoy-upstream-rq-timeout-ms");
    String perTry = key();
    HttpResponse<String> p = send("/5xx/x", perTry, "hang,ok", Map.of("x-envoy-upstream-rq-per-try-timeout-ms", "100"), null);
    assertThat(p.statusCode()).isEqualTo(200);
    assertThat(a.count(perTry)).isEqualTo(2);
  }

  @Test
  void aHungTryIsCutByThePerTryTimeoutAndRetried() throws Exception {
    long perTry = counter("cluster.one.upstream_rq_per_try_timeout");
    String k = key();
    HttpResponse<String> r = send("/pertry/x", k, "hang,ok");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(a.count(k)).isEqualTo(2);
    assertThat(counter("cluster.one.upstream_rq_per_try_timeout") - perTry).isEqualTo(1);
    assertThat(a.seen.stream().filter(s -> s.key().equals(k)).findFirst().orElseThrow().headers())
        .containsEntry("x-envoy-expected-rq-timeout-ms", "100");
  }

  @Test
  void aPerTryTimeoutWithoutRetryConditionAnswers504WithFlagUt() throws Exception {
    String k = key();
    HttpResponse<String> r = send("/pertry-only/x", k, "hang,ok");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.body()).isEqualTo("upstream request timeout");
    assertThat(a.count(k)).isEqualTo(1);
    assertThat(logLine(k)).isEqualTo("504 UT upstream_per_try_timeout 1");
    long idle = counter("cluster.one.upstream_rq_per_try_idle_timeout");
    String i = key();
    assertThat(send("/idle/x", i, "hang").statusCode()).isEqualTo(504);
    assertThat(counter("cluster.one.upstream_rq_per_try_idle_timeout") - idle).isEqualTo(1);
    assertThat(logLine(i)).isEqualTo("504 UT upstream_per_try_idle_timeout 1");
    // A slow but steady answer within the idle timeout passes.
    assertThat(send("/idle/x", key(), "slow:30").statusCode()).isEqualTo(200);
  }

  @Test
  void theRoutesIdleTimeoutReplacesTheStreamIdleTimeout() throws Exception {
    String k = key();
    long start = System.nanoTime();
    send("/route-idle/x", k, "hang");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(logLine(k)).contains(" SI stream_idle_timeout ");
    assertThat(send("/route-idle/x", key(), "slow:20").statusCode()).isEqualTo(200);
  }

  @Test
  void theRouteTimeoutBoundsAllRetries() throws Exception {
    long timeouts = counter("cluster.one.upstream_rq_timeout");
    String k = key();
    long start = System.nanoTime();
    HttpResponse<String> r = send("/global/x", k, "503,503,hang");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    assertThat(logLine(k)).startsWith("504 UT upstream_response_timeout");
    assertThat(counter("cluster.one.upstream_rq_timeout") - timeouts).isEqualTo(1);
  }

  @Test
  void bodiesAreReplayedOnRetryWithinTheBufferLimit() throws Exception {
    String k = key();
    HttpResponse<String> r = send("/buffer/x", k, "503,ok", Map.of(), "small body");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("a:small body");
    assertThat(a.seen.stream().filter(s -> s.key().equals(k)).map(ScriptedUpstream.Seen::body))
        .containsExactly("small body", "small body");
    long abandoned = counter("cluster.one.retry_or_shadow_abandoned");
    String big = key();
    HttpResponse<String> over = send("/buffer/x", big, "503,ok", Map.of(), "a body longer than sixteen bytes");
    assertThat(over.statusCode()).isEqualTo(503);
    assertThat(a.count(big)).isEqualTo(1);
    assertThat(counter("cluster.one.retry_or_shadow_abandoned") - abandoned).isEqualTo(1);
  }

  @Test
  void theRetryCircuitBreakerReturnsTheLastResponseWithFlagUo() throws Exception {
    long overflow = counter("cluster.nobudget.upstream_rq_retry_overflow");
    String k = key();
    HttpResponse<String> r = send("/overflow/x", k, "503,ok");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(a.count(k)).isEqualTo(1);
    assertThat(counter("cluster.nobudget.upstream_rq_retry_overflow") - overflow).isEqualTo(1);
    assertThat(logLine(k)).isEqualTo("503 UO via_upstream 1");
  }

  @Test
  void theMirrorGetsACopyWithTheShadowHost() throws Exception {
    String k = key();
    HttpResponse<String> r = send("/mirror/x", k, "ok", Map.of(), "copy me");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("a:copy me");
    await().atMost(Duration.ofSeconds(5)).until(() -> mirror.count(k) == 1);
    ScriptedUpstream.Seen copy = mirror.seen.stream().filter(s -> s.key().equals(k)).findFirst().orElseThrow();
    ScriptedUpstream.Seen main = a.seen.stream().filter(s -> s.key().equals(k)).findFirst().orElseThrow();
    assertThat(copy.body()).isEqualTo("copy me");
    assertThat(copy.path()).isEqualTo("/mirror/x");
    assertThat(copy.headers().get("host")).isEqualTo(main.headers().get("host").replaceFirst(":", "-shadow:"));
    String never = key();
    assertThat(send("/mirror-never/x", never, "ok").statusCode()).isEqualTo(200);
    assertThat(mirror.count(never)).isZero();
  }

  @Test
  void aHangingOrFailingMirrorNeverReachesTheClient() throws Exception {
    for (String failure : List.of("hang", "503", "close", "rst")) {
      String k = key();
      long start = System.nanoTime();
      HttpResponse<String> r = send("/mirror/x", k, "ok", Map.of("x-mirror-script", failure), "body");
      assertThat(r.statusCode()).as(failure).isEqualTo(200);
      assertThat(r.body()).isEqualTo("a:body");
      // The route timeout is 15 s: a mirror that held the request up would show.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as(failure).isLessThan(Duration.ofSeconds(5));
      await().atMost(Duration.ofSeconds(5)).until(() -> mirror.count(k) == 1);
      assertThat(logLine(k)).isEqualTo("200 - via_upstream 1");
    }
    String dead = key();
    HttpResponse<String> d = send("/mirror-dead/x", dead, "ok", Map.of(), "body");
    assertThat(d.statusCode()).isEqualTo(200);
    assertThat(d.body()).isEqualTo("a:body");
    assertThat(logLine(dead)).isEqualTo("200 - via_upstream 1");
  }
}
