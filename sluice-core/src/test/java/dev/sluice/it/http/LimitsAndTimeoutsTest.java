package dev.sluice.it.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Options;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Envoy's timeouts and upstream failures end to end, each with its local reply, counter and
 * access-log response flag. Timeouts are a few hundred milliseconds; the backend delays far longer.
 */
class LimitsAndTimeoutsTest {
  @TempDir
  static Path dir;
  static Path log;
  static TestBackend backend;
  static Server server;

  @BeforeAll
  static void start() throws Exception {
    backend = new TestBackend("b");
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    log = dir.resolve("access.log");
    String accessLog = """
        access_log:
        - name: envoy.access_loggers.file
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
            path: %s
            log_format: {text_format_source: {inline_string: "%%REQ(:PATH)%% %%RESPONSE_CODE%% %%RESPONSE_FLAGS%% %%RESPONSE_CODE_DETAILS%%\\n"}}
        """.formatted(log);
    String clusters = ProxyYaml.cluster("b", backend.port(), false) + ProxyYaml.cluster("down", closedPort, false);
    String listeners = ProxyYaml.listener("route_timeout", accessLog, "b", "timeout: 0.2s")
        + ProxyYaml.listener("connect_fail", accessLog, "down", "")
        + ProxyYaml.listener("stream_idle", accessLog + "stream_idle_timeout: 0.3s", "b", "")
        + ProxyYaml.listener("request_timeout", accessLog + "request_timeout: 0.3s", "b", "")
        + ProxyYaml.listener("headers_timeout", "request_headers_timeout: 0.3s", "b", "")
        + ProxyYaml.listener("idle", "common_http_protocol_options: {idle_timeout: 0.3s}", "b", "")
        + ProxyYaml.listener("max_duration", "common_http_protocol_options: {max_connection_duration: 0.3s}", "b", "")
        + ProxyYaml.listener("max_stream", accessLog + "common_http_protocol_options: {max_stream_duration: 0.3s}", "b", "");
    server = TestServers.start(TestServers.bootstrap(ProxyYaml.bootstrap(clusters, listeners)), fastFlush());
  }

  /** {@link TestServers#options()} with access logs flushed every 50 ms (Envoy's default is 10 s). */
  static Options fastFlush() {
    Options o = TestServers.options();
    return new Options(null, null, o.concurrency(), o.logLevel(), Map.of(), null, null, o.drainTime(),
        o.drainStrategy(), o.parentShutdownTime(), o.localAddressIpVersion(), Duration.ofMillis(50),
        false, false, null, null, null, 0, Options.Mode.SERVE, List.of());
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

  static RawHttp.Response get(String listener, String path) throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort(listener))) {
      http.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
      return http.read();
    }
  }

  static void assertLogged(String line) {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(Files.exists(log) ? Files.readString(log) : "").contains(line + "\n"));
  }

  static long counter(String name) {
    return MalformedHttp1Test.counter(server, name);
  }

  @Test
  void routeTimeoutIs504WithFlagUT() throws Exception {
    RawHttp.Response r = get("route_timeout", "/delay/5000?rt");
    assertThat(r.status()).isEqualTo(504);
    assertThat(r.body()).isEqualTo("upstream request timeout");
    assertLogged("/delay/5000?rt 504 UT upstream_response_timeout");
    assertThat(counter("cluster.b.upstream_rq_timeout")).isPositive();
  }

  @Test
  void upstreamConnectFailureIs503WithFlagUF() throws Exception {
    RawHttp.Response r = get("connect_fail", "/uf");
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).startsWith("upstream connect error or disconnect/reset before headers. reset reason: ")
        .contains("connection failure");
    assertLogged("/uf 503 UF upstream_reset_before_response_started{connection_failure}");
    assertThat(counter("cluster.down.upstream_cx_connect_fail")).isPositive();
  }

  @Test
  void upstreamClosingBeforeTheResponseIs503WithFlagUC() throws Exception {
    RawHttp.Response r = get("route_timeout", "/close?uc");
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("upstream connect error or disconnect/reset before headers. reset reason: connection termination");
    assertLogged("/close?uc 503 UC upstream_reset_before_response_started{connection_termination}");
  }

  @Test
  void streamIdleTimeoutIs408BeforeTheResponse() throws Exception {
    long before = counter("http.stream_idle.downstream_rq_idle_timeout");
    try (RawHttp http = new RawHttp(server.listenerPort("stream_idle"))) {
      http.send("POST /echo?idle HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(408);
      assertThat(r.body()).isEqualTo("stream timeout");
      assertThat(http.closedByPeer()).isTrue();
    }
    assertThat(counter("http.stream_idle.downstream_rq_idle_timeout")).isGreaterThan(before);
    assertLogged("/echo?idle 408 SI stream_idle_timeout");
  }

  @Test
  void requestTimeoutIs408() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("request_timeout"))) {
      http.send("POST /echo?rq HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(408);
      assertThat(r.body()).isEqualTo("request timeout");
      assertThat(http.closedByPeer()).isTrue();
    }
    assertThat(counter("http.request_timeout.downstream_rq_timeout")).isPositive();
    assertLogged("/echo?rq 408 - request_overall_timeout");
  }

  @Test
  void requestHeadersTimeoutClosesAConnectionWithPartialHeaders() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("headers_timeout"))) {
      http.send("GET /slow HTTP/1.1\r\nHo");
      RawHttp.Response r = http.read();
      // Envoy: the timer starts at the first byte; on expiry a 408 local reply, then close.
      assertThat(r).isNotNull();
      assertThat(r.status()).isEqualTo(408);
      assertThat(http.closedByPeer()).isTrue();
    }
    // Without a byte received there is no headers timer: the connection stays open and usable.
    try (RawHttp http = new RawHttp(server.listenerPort("headers_timeout"))) {
      long before = counter("http.headers_timeout.downstream_rq_header_timeout");
      await().pollDelay(Duration.ofMillis(600)).until(() -> true);
      http.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(http.read().status()).isEqualTo(200);
      assertThat(counter("http.headers_timeout.downstream_rq_header_timeout")).isEqualTo(before);
    }
    assertThat(counter("http.headers_timeout.downstream_rq_header_timeout")).isPositive();
  }

  @Test
  void idleTimeoutClosesAnIdleConnection() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("idle"))) {
      http.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(http.read().status()).isEqualTo(200);
      assertThat(http.closedByPeer()).isTrue();
    }
    assertThat(counter("http.idle.downstream_cx_idle_timeout")).isPositive();
  }

  @Test
  void maxConnectionDurationClosesTheConnection() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("max_duration"))) {
      http.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(http.read().status()).isEqualTo(200);
      assertThat(http.closedByPeer()).isTrue();
    }
    assertThat(counter("http.max_duration.downstream_cx_max_duration_reached")).isPositive();
  }

  @Test
  void maxStreamDurationIs408BeforeTheResponse() throws Exception {
    RawHttp.Response r = get("max_stream", "/delay/5000?ms");
    assertThat(r.status()).isEqualTo(408);
    assertThat(r.body()).isEqualTo("downstream duration timeout");
    assertThat(counter("http.max_stream.downstream_rq_max_duration_reached")).isPositive();
    assertLogged("/delay/5000?ms 408 DT max_duration_timeout");
  }
}
