package dev.sluice.extensions.filters.http.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fault filter as Istio configures it (an empty {@code HTTPFault} in the chain, the
 * VirtualService's fault as the route's {@code typed_per_filter_config}, percentages over a
 * MILLION), through a full server to a real backend: Bookinfo's ratings abort and delay for
 * {@code end-user: jason}, a gRPC abort, header-controlled faults, and a client that leaves during
 * a delay. HTTP/1.1 (java.net.http) and HTTP/2 (curl, prior knowledge) downstream; HTTP/1 and
 * HTTP/2 upstream.
 */
class FaultIntegrationTest {
  private static TestBackend backend;
  private static Server server;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static String fault(String json) {
    return "{envoy.filters.http.fault: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault, " + json + "}}";
  }

  @BeforeAll
  static void start() throws Exception {
    backend = new TestBackend("ratings");
    String all = "percentage: {numerator: 1000000, denominator: MILLION}";
    server = TestServers.start(("""
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: ratings
            type: STATIC
            load_assignment:
              cluster_name: ratings
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %1$d}}}}]}]
          - name: ratings-h2
            type: STATIC
            typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {"@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http2_protocol_options: {}}}}
            load_assignment:
              cluster_name: ratings-h2
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %1$d}}}}]}]
          listeners:
        """ + ProxyYaml.hcmListener("in", "inbound", """
                  route_config:
                    virtual_hosts:
                    - name: ratings
                      domains: ["*"]
                      routes:
                      - match: {prefix: /abort, headers: [{name: end-user, string_match: {exact: jason}}]}
                        route: {cluster: ratings}
                        typed_per_filter_config: %2$s
                      - match: {prefix: /delay, headers: [{name: end-user, string_match: {exact: jason}}]}
                        route: {cluster: ratings-h2}
                        typed_per_filter_config: %3$s
                      - match: {prefix: /grpc}
                        route: {cluster: ratings}
                        typed_per_filter_config: %4$s
                      - match: {prefix: /h2}
                        route: {cluster: ratings-h2}
                      - match: {prefix: /bytes, headers: [{name: x-slow, present_match: true}]}
                        route: {cluster: ratings}
                        typed_per_filter_config: %5$s
                      - match: {prefix: /bytes, headers: [{name: x-slow-h2, present_match: true}]}
                        route: {cluster: ratings-h2}
                        typed_per_filter_config: %5$s
                      - match: {prefix: /share}
                        route: {cluster: ratings}
                        typed_per_filter_config: %6$s
                      - match: {prefix: /}
                        route: {cluster: ratings}
                  http_filters:
                  - name: envoy.filters.http.fault
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                      delay: {header_delay: {}, percentage: {numerator: 100}}
                      abort: {header_abort: {}, percentage: {numerator: 100}}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  """)).formatted(backend.port(),
        fault("abort: {http_status: 500, " + all + "}"),
        fault("delay: {fixed_delay: 0.3s, " + all + "}"),
        fault("abort: {grpc_status: 14, " + all + "}"),
        fault("response_rate_limit: {fixed_limit: {limit_kbps: 8}, " + all + "}"),
        fault("abort: {http_status: 503, percentage: {numerator: 30}}, delay: {fixed_delay: 0.001s, percentage: {numerator: 20}}")));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  private static HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("in") + path));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static long counter(String name) {
    return server.stats().counter("http.inbound.fault." + name).value();
  }

  /** curl over HTTP/2 with prior knowledge: status line and body, {@code -i}. */
  private static String curlH2(String path, String... headers) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-i", "--http2-prior-knowledge", "--max-time", "10"));
    for (String h : headers) {
      cmd.add("-H");
      cmd.add(h);
    }
    cmd.add("http://127.0.0.1:" + server.listenerPort("in") + path);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  @Test
  void jasonGetsTheRatingsAbortOthersReachTheBackend() throws Exception {
    long before = counter("aborts_injected");
    int served = backend.requests.get();
    HttpResponse<String> jason = get("/abort/ratings/0", "end-user", "jason");
    assertThat(jason.statusCode()).isEqualTo(500);
    assertThat(jason.body()).isEqualTo("fault filter abort");
    assertThat(counter("aborts_injected")).isEqualTo(before + 1);
    assertThat(backend.requests.get()).isEqualTo(served);

    HttpResponse<String> other = get("/abort/ratings/0", "end-user", "alice");
    assertThat(other.statusCode()).isEqualTo(200);
    assertThat(other.headers().firstValue("x-backend")).hasValue("ratings");
  }

  @Test
  void theAbortOverHttp2() throws Exception {
    String out = curlH2("/abort/ratings/0", "end-user: jason");
    assertThat(out).startsWith("HTTP/2 500").endsWith("fault filter abort");
  }

  @Test
  void jasonsRequestIsDelayedThenServedOverAnHttp2Upstream() throws Exception {
    long before = counter("delays_injected");
    long start = System.nanoTime();
    HttpResponse<String> r = get("/delay/0", "end-user", "jason");
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("delayed");
    assertThat(tookMs).isGreaterThanOrEqualTo(300);
    assertThat(counter("delays_injected")).isEqualTo(before + 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().gauge("http.inbound.fault.active_faults").value() == 0);
  }

  @Test
  void grpcAbortIsATrailersOnlyReplyWithThatStatus() throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("in") + "/grpc/Svc/Method"))
        .header("content-type", "application/grpc").header("te", "trailers")
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[5])).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("grpc-status")).hasValue("14");
    assertThat(r.headers().firstValue("grpc-message")).hasValue("fault filter abort");
    assertThat(r.body()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/h2/"})
  void headerControlledAbortAndDelay(String prefix) throws Exception {
    assertThat(get(prefix + "x", "x-envoy-fault-abort-request", "503").statusCode()).isEqualTo(503);
    assertThat(curlH2(prefix + "x", "x-envoy-fault-abort-request: 429")).startsWith("HTTP/2 429");
    long start = System.nanoTime();
    HttpResponse<String> delayed = get(prefix + "x", "x-envoy-fault-delay-request", "100");
    assertThat(delayed.statusCode()).isEqualTo(200);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(100);
    assertThat(get(prefix + "x").statusCode()).isEqualTo(200);
  }

  @Test
  void aClientLeavingDuringTheDelayCancelsIt() throws Exception {
    long delays = counter("delays_injected");
    int served = backend.requests.get();
    try (Socket s = new Socket("127.0.0.1", server.listenerPort("in"))) {
      OutputStream out = s.getOutputStream();
      out.write("GET /x HTTP/1.1\r\nhost: r\r\nx-envoy-fault-delay-request: 60000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await().atMost(Duration.ofSeconds(5)).until(() -> counter("delays_injected") == delays + 1);
      assertThat(server.stats().gauge("http.inbound.fault.active_faults").value()).isEqualTo(1);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().gauge("http.inbound.fault.active_faults").value() == 0);
    assertThat(backend.requests.get()).isEqualTo(served);
  }

  @ParameterizedTest
  @ValueSource(strings = {"x-slow", "x-slow-h2"})
  void aResponseRateLimitSlowsTheBodyToItsRate(String header) throws Exception {
    long before = counter("response_rl_injected");
    long start = System.nanoTime();
    HttpResponse<String> r = get("/bytes/4096", header, "1");
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).hasSize(4096).startsWith("abcdef");
    // 8 KiB/s from a bucket of one 409-byte slice: the rest needs at least (4096 - 409) / 8192 s.
    assertThat(millis).isGreaterThanOrEqualTo(440);
    assertThat(counter("response_rl_injected") - before).isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).until(() -> server.stats().gauge("http.inbound.fault.active_faults").value() == 0);
  }

  @Test
  void faultPercentagesHoldOverManyRequests() throws Exception {
    // 30 % aborts, 20 % delays, each its own draw: over n requests the counts stay within five
    // standard deviations of the binomial mean (a false failure about once in two million runs).
    int n = 300;
    long aborts0 = counter("aborts_injected");
    long delays0 = counter("delays_injected");
    int answered503 = 0;
    for (int i = 0; i < n; i++) {
      if (get("/share").statusCode() == 503) {
        answered503++;
      }
    }
    long aborts = counter("aborts_injected") - aborts0;
    long delays = counter("delays_injected") - delays0;
    assertThat(aborts).isEqualTo(answered503);
    assertThat((double) aborts).isBetween(n * 0.3 - 5 * Math.sqrt(n * 0.3 * 0.7), n * 0.3 + 5 * Math.sqrt(n * 0.3 * 0.7));
    assertThat((double) delays).isBetween(n * 0.2 - 5 * Math.sqrt(n * 0.2 * 0.8), n * 0.2 + 5 * Math.sqrt(n * 0.2 * 0.8));
  }
}
