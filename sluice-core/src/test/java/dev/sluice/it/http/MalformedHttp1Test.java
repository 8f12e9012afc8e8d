package dev.sluice.it.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.stats.StatsStore;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import io.netty.handler.codec.http.FullHttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed and borderline HTTP/1.1 requests, written as raw bytes to a full server, each with
 * the answer Envoy (BalsaParser, default settings) gives: the status, whether the connection is
 * closed, whether the backend saw anything, and the counter that moves. Every smuggling shape
 * carries a hidden {@code /smuggled} request that the backend must never receive.
 */
class MalformedHttp1Test {
  static TestBackend backend;
  static Server server;

  @BeforeAll
  static void start() throws Exception {
    backend = new TestBackend("b");
    String clusters = ProxyYaml.cluster("b", backend.port(), false);
    String listeners = ProxyYaml.listener("h1", "codec_type: HTTP1", "b", "")
        + ProxyYaml.listener("reject_underscores", """
            common_http_protocol_options: {headers_with_underscores_action: REJECT_REQUEST}
            """, "b", "")
        + ProxyYaml.listener("drop_underscores", """
            common_http_protocol_options: {headers_with_underscores_action: DROP_HEADER}
            """, "b", "")
        + ProxyYaml.listener("normalize", """
            normalize_path: true
            merge_slashes: true
            path_with_escaped_slashes_action: REJECT_REQUEST
            """, "b", "")
        + ProxyYaml.listener("redirect_slashes", """
            path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT
            """, "b", "")
        + ProxyYaml.listener("small", """
            max_request_headers_kb: 1
            common_http_protocol_options: {max_headers_count: 5}
            """, "b", "");
    server = TestServers.start(ProxyYaml.bootstrap(clusters, listeners));
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

  /**
   * One row: what to send to which listener, and Envoy's answer. {@code status} 0 means the
   * connection is closed without a response. {@code forwarded}: whether the backend receives a
   * (complete) request. {@code counter}: a stat (full name) that must grow, or null.
   */
  record Case(String name, String listener, String request, int status, boolean closes, boolean forwarded,
      @Nullable String counter) {
    @Override
    public String toString() {
      return name;
    }
  }

  static final String HIDDEN = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

  static Case bad(String name, String request, int status, String listener) {
    return new Case(name, listener, request, status, true, false, listener(listener) + "downstream_cx_protocol_error");
  }

  static Case bad(String name, String request, int status) {
    return bad(name, request, status, "h1");
  }

  static Case ok(String name, String request) {
    return new Case(name, "h1", request, 200, false, true, null);
  }

  static String listener(String l) {
    return "http." + l + ".";
  }

  static String post(String headers, String body) {
    return "POST /echo HTTP/1.1\r\nHost: a\r\n" + headers + "\r\n" + body;
  }

  static String get(String headers) {
    return "GET /get HTTP/1.1\r\nHost: a\r\n" + headers + "\r\n";
  }

  static Stream<Case> cases() {
    String bigValue = "v".repeat(61 * 1024);
    StringBuilder manyHeaders = new StringBuilder();
    for (int i = 0; i < 101; i++) {
      manyHeaders.append("x-h").append(i).append(": v\r\n");
    }
    return Stream.of(
        // ---- message framing (request smuggling shapes)
        bad("content-length with chunked", post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + HIDDEN), 400),
        bad("transfer-encoding gzip, chunked", post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n" + HIDDEN), 501),
        bad("transfer-encoding identity", post("Transfer-Encoding: identity\r\nContent-Length: 0\r\n", HIDDEN), 501),
        bad("transfer-encoding chunked, chunked", post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n" + HIDDEN), 501),
        bad("transfer-encoding twice", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + HIDDEN), 501),
        ok("transfer-encoding Chunked (case-insensitive)", post("Transfer-Encoding: Chunked\r\n", "3\r\nabc\r\n0\r\n\r\n")),
        bad("duplicate content-length", post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"), 400),
        bad("conflicting content-length", post("Content-Length: 3\r\nContent-Length: 40\r\n", "abc" + HIDDEN), 400),
        bad("content-length list", post("Content-Length: 3, 3\r\n", "abc"), 400),
        bad("content-length not a number", post("Content-Length: abc\r\n", "abc"), 400),
        bad("content-length negative", post("Content-Length: -1\r\n", HIDDEN), 400),
        bad("content-length with plus sign", post("Content-Length: +3\r\n", "abc"), 400),
        bad("content-length overflow", post("Content-Length: 99999999999999999999999\r\n", "abc"), 400),
        bad("chunk size not hex", post("Transfer-Encoding: chunked\r\n", "zz\r\nabc\r\n0\r\n\r\n"), 400),
        bad("chunk size overflow", post("Transfer-Encoding: chunked\r\n", "fffffffffffffffffff\r\nabc\r\n0\r\n\r\n"), 400),
        bad("chunk data without CRLF", post("Transfer-Encoding: chunked\r\n", "3\r\nabcXX0\r\n\r\n" + HIDDEN), 400),
        ok("chunk extension", post("Transfer-Encoding: chunked\r\n", "3;name=value\r\nabc\r\n0\r\n\r\n")),
        // ---- header syntax
        ok("obs-fold continuation line", get("X-Folded: a\r\n b\r\n")),
        bad("space before colon", get("Host : a\r\n"), 400),
        bad("NUL in header value", get("X-A: a\0b\r\n"), 400),
        bad("CR in header value", get("X-A: a\rb\r\n"), 400),
        bad("header line without colon", get("X-A a\r\n"), 400),
        bad("invalid character in header name", get("X(A: a\r\n"), 400),
        bad("bare LF line endings", "GET /get HTTP/1.1\nHost: a\n\n", 400),
        bad("headers larger than max_request_headers_kb", get("X-Big: " + bigValue + "\r\n"), 431),
        bad("more than max_headers_count headers", get(manyHeaders.toString()), 431),
        bad("request line longer than max_request_headers_kb", "GET /" + bigValue + " HTTP/1.1\r\nHost: a\r\n\r\n", 431),
        bad("headers larger than 1 KiB (configured)", get("X-Big: " + "v".repeat(1100) + "\r\n"), 431, "small"),
        bad("more than 5 headers (configured)", get("a: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\ne: 1\r\n"), 431, "small"),
        // ---- request line
        bad("invalid method token", "G(T /get HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        bad("unknown method", "FOO /get HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        bad("HTTP/1.0 without accept_http_10", "GET /get HTTP/1.0\r\nHost: a\r\n\r\n", 426),
        bad("HTTP/0.9 request line", "GET /get\r\n\r\n", 426),
        bad("unsupported version HTTP/1.2", "GET /get HTTP/1.2\r\nHost: a\r\n\r\n", 426),
        bad("HTTP/2 preface to an HTTP/1 codec", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
        bad("invalid character in host", get("").replace("Host: a", "Host: a<b"), 400),
        new Case("missing host", "h1", "GET /get HTTP/1.1\r\n\r\n", 400, false, false, null),
        new Case("absolute-form URI", "h1", "GET http://example.com/get HTTP/1.1\r\nHost: ignored\r\n\r\n", 200, false, true, null),
        // ---- connection manager policies
        new Case("underscore header, REJECT_REQUEST", "reject_underscores", get("x_a: 1\r\n"), 400, true, false,
            listener("reject_underscores") + "requests_rejected_with_underscores_in_headers"),
        new Case("underscore header, DROP_HEADER", "drop_underscores", get("x_a: 1\r\n"), 200, false, true,
            listener("drop_underscores") + "dropped_headers_with_underscores"),
        new Case("escaped slash, REJECT_REQUEST", "normalize", "GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n", 400, false, false,
            listener("normalize") + "downstream_rq_failed_path_normalization"),
        new Case("escaped slash, UNESCAPE_AND_REDIRECT", "redirect_slashes", "GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n", 307, false, false,
            listener("redirect_slashes") + "downstream_rq_redirected_with_normalized_path"),
        new Case("dot segments and repeated slashes normalized", "normalize", "GET //x/../a//b HTTP/1.1\r\nHost: a\r\n\r\n", 200, false, true, null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void answersAsEnvoyDoes(Case c) throws Exception {
    int before = backend.requests.get();
    long counterBefore = c.counter() == null ? 0 : counter(c.counter());
    try (RawHttp http = new RawHttp(server.listenerPort(c.listener()))) {
      http.send(c.request());
      RawHttp.Response r = http.read();
      if (c.status() == 0) {
        assertThat(r).isNull();
      } else {
        assertThat(r).as("response").isNotNull();
        assertThat(r.status()).isEqualTo(c.status());
      }
      if (c.closes()) {
        if (r != null) {
          assertThat(r.headers()).containsEntry("connection", "close");
        }
        assertThat(http.closedByPeer()).as("connection closed by the proxy").isTrue();
      } else {
        // The connection stays usable: a second request on it is answered.
        http.send(get(""));
        RawHttp.Response next = http.read();
        assertThat(next).as("response on the same connection").isNotNull();
        assertThat(next.status()).isEqualTo(200);
      }
    }
    int expectedForwarded = before + (c.forwarded() ? 1 : 0) + (c.closes() ? 0 : 1);
    assertThat(backend.requests.get()).as("requests the backend received").isEqualTo(expectedForwarded);
    assertThat(paths()).doesNotContain("/smuggled");
    if (c.counter() != null) {
      assertThat(counter(c.counter())).as(c.counter()).isGreaterThan(counterBefore);
    }
  }

  @Test
  void absoluteFormTakesHostFromTheUri() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("h1"))) {
      http.send("GET http://example.com:8080/headers?q=1 HTTP/1.1\r\nHost: ignored\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains(":path: /headers?q=1").contains("host: example.com:8080").doesNotContain("ignored");
    }
  }

  @Test
  void foldedHeaderIsJoinedWithASpace() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("h1"))) {
      http.send("GET /headers HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains("x-folded: a b\n");
    }
  }

  @Test
  void droppedUnderscoreHeaderNeverReachesTheBackend() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("drop_underscores"))) {
      http.send("GET /headers HTTP/1.1\r\nHost: a\r\nx_a: 1\r\nx-b: 2\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains("x-b: 2").doesNotContain("x_a");
    }
  }

  @Test
  void normalizedPathReachesTheBackend() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("normalize"))) {
      http.send("GET //x/../headers//y HTTP/1.1\r\nHost: a\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains(":path: /headers/y\n");
    }
    try (RawHttp http = new RawHttp(server.listenerPort("redirect_slashes"))) {
      http.send("GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(307);
      assertThat(r.headers()).containsEntry("location", "/a/b");
    }
  }

  @Test
  void codecErrorsAreAnsweredWithEnvoysBody() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("h1"))) {
      http.send(post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"));
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.body()).isEqualTo("Bad Request");
      assertThat(r.headers()).containsEntry("content-type", "text/plain").containsEntry("server", "envoy");
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    try (RawHttp http = new RawHttp(server.listenerPort("h1"))) {
      http.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n"
          + "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nthird");
      assertThat(http.read().body()).isEqualTo("ok GET /first");
      assertThat(http.read().body()).isEqualTo("ok GET /second");
      assertThat(http.read().body()).isEqualTo("third");
    }
  }

  @Test
  void requestHiddenInABodyIsNeverForwarded() throws Exception {
    int before = backend.requests.get();
    try (RawHttp http = new RawHttp(server.listenerPort("h1"))) {
      http.send(post("Content-Length: " + HIDDEN.length() + "\r\n", HIDDEN));
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(HIDDEN);
    }
    assertThat(backend.requests.get()).isEqualTo(before + 1);
    assertThat(paths()).doesNotContain("/smuggled");
  }

  static List<String> paths() {
    List<String> out = new ArrayList<>();
    for (FullHttpRequest r : backend.seen) {
      out.add(r.uri());
    }
    return out;
  }

  static long counter(String name) {
    return counter(server, name);
  }

  /** A counter's value by full name, -1 when it does not exist. */
  static long counter(Server server, String name) {
    StatsStore stats = server.stats();
    return stats.counters().stream().filter(c -> c.name().equals(name)).mapToLong(c -> c.value()).findFirst().orElse(-1);
  }
}
