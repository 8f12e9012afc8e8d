package dev.sluice.it.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 downstream edge cases through a full server, from a raw-frame HTTP/2 client, each against
 * Envoy's behaviour: header-list overflow, client and upstream resets, malformed requests (with and
 * without {@code stream_error_on_invalid_http_messaging}), many streams and
 * {@code max_concurrent_streams}, the stream idle timeout and flow control toward a slow reader.
 */
class Http2DownstreamEdgeTest {
  static final int PROTOCOL_ERROR = 1, INTERNAL_ERROR = 2, REFUSED_STREAM = 7, CANCEL = 8;
  static EdgeBackend h2Backend;
  static EdgeBackend h1Backend;
  static Server server;

  @BeforeAll
  static void start() throws Exception {
    h2Backend = new EdgeBackend(true);
    h1Backend = new EdgeBackend(false);
    String clusters = ProxyYaml.cluster("b2", h2Backend.port(), true)
        + ProxyYaml.cluster("b1", h1Backend.port(), false) + "    per_connection_buffer_limit_bytes: 32768\n";
    String listeners = ProxyYaml.listener("h2", "max_request_headers_kb: 4", "b2", "")
        + ProxyYaml.listener("h1up", "", "b1", "")
        + ProxyYaml.listener("strict", "http2_protocol_options: {stream_error_on_invalid_http_messaging: true}", "b2", "")
        + ProxyYaml.listener("limited", "http2_protocol_options: {max_concurrent_streams: 10}", "b2", "")
        + ProxyYaml.listener("idle", "stream_idle_timeout: 0.3s", "b2", "")
        + ProxyYaml.listener("small", "", "b1", "").replace("    filter_chains:\n",
            "    per_connection_buffer_limit_bytes: 32768\n    filter_chains:\n");
    server = TestServers.start(ProxyYaml.bootstrap(clusters, listeners));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (h2Backend != null) {
      h2Backend.close();
    }
    if (h1Backend != null) {
      h1Backend.close();
    }
  }

  static long counter(String name) {
    return server.stats().counters().stream().filter(c -> c.name().equals(name)).mapToLong(c -> c.value()).findFirst().orElse(-1);
  }

  static RawH2 connect(String listener) throws Exception {
    return new RawH2(server.listenerPort(listener));
  }

  /** A GET on stream {@code id} answers 200 "ok <path>": the connection is still usable. */
  static void assertUsable(RawH2 h2, int id) throws Exception {
    h2.request(id, "GET", "/after", true);
    RawH2.Stream s = h2.await(id);
    assertThat(s.status()).isEqualTo(200);
    assertThat(s.bodyText()).isEqualTo("ok /after");
  }

  @Test
  void headerListOverTheLimitResetsTheStreamAndKeepsTheConnection() throws Exception {
    long before = counter("http2.header_overflow");
    try (RawH2 h2 = connect("h2")) {
      h2.readUntil(() -> h2.serverSettings.containsKey(6));
      // Envoy advertises max_request_headers_kb as SETTINGS_MAX_HEADER_LIST_SIZE...
      assertThat(h2.serverSettings.get(6)).isEqualTo(4096L);
      // ...and resets a stream whose headers exceed it (no 431 on HTTP/2, the codec resets).
      h2.request(1, "GET", "/big-headers", true, "x-big", "v".repeat(4500));
      RawH2.Stream s = h2.await(1);
      assertThat(s.headers).isNull();
      assertThat(s.rstCode).isEqualTo(INTERNAL_ERROR);
      assertUsable(h2, 3);
      assertThat(h2.goAwayCode).isEqualTo(-1);
    }
    assertThat(counter("http2.header_overflow")).isEqualTo(before + 1);
  }

  @Test
  void clientResetDuringUploadCancelsTheHttp2UpstreamStream() throws Exception {
    long resets = counter("http.h2.downstream_rq_rx_reset");
    long rx = counter("http2.rx_reset");
    int cancelled = h2Backend.resetsReceived.get();
    long body = h2Backend.bodyBytes.get();
    try (RawH2 h2 = connect("h2")) {
      h2.request(1, "POST", "/upload", false);
      h2.data(1, new byte[1000], false);
      await().atMost(Duration.ofSeconds(10)).until(() -> h2Backend.bodyBytes.get() >= body + 1000);
      h2.rst(1, CANCEL);
      await().atMost(Duration.ofSeconds(10)).until(() -> h2Backend.resetsReceived.get() > cancelled);
      assertUsable(h2, 3);
    }
    assertThat(counter("http.h2.downstream_rq_rx_reset")).isEqualTo(resets + 1);
    assertThat(counter("http2.rx_reset")).isEqualTo(rx + 1);
  }

  @Test
  void clientResetDuringUploadClosesTheHttp1UpstreamConnection() throws Exception {
    long resets = counter("http.h1up.downstream_rq_rx_reset");
    int closed = h1Backend.connectionsClosed.get();
    long body = h1Backend.bodyBytes.get();
    try (RawH2 h2 = connect("h1up")) {
      h2.request(1, "POST", "/upload", false, "content-length", "5000");
      h2.data(1, new byte[1000], false);
      await().atMost(Duration.ofSeconds(10)).until(() -> h1Backend.bodyBytes.get() >= body + 1000);
      h2.rst(1, CANCEL);
      // HTTP/1 cannot cancel a request but by closing its connection.
      await().atMost(Duration.ofSeconds(10)).until(() -> h1Backend.connectionsClosed.get() > closed);
      assertUsable(h2, 3);
    }
    assertThat(counter("http.h1up.downstream_rq_rx_reset")).isEqualTo(resets + 1);
  }

  @Test
  void upstreamResetAfterHeadersResetsTheClientStream() throws Exception {
    for (String listener : List.of("h2", "h1up")) {
      long tx = counter("http2.tx_reset");
      try (RawH2 h2 = connect(listener)) {
        h2.request(1, "GET", "/reset-after-headers", true);
        RawH2.Stream s = h2.await(1);
        assertThat(s.status()).as(listener).isEqualTo(200);
        assertThat(s.ended).as(listener).isFalse();
        assertThat(s.rstCode).as(listener).isGreaterThanOrEqualTo(0);
        assertUsable(h2, 3);
      }
      assertThat(counter("http2.tx_reset")).as(listener).isEqualTo(tx + 1);
    }
  }

  @Test
  void upstreamResetBeforeHeadersIs503() throws Exception {
    try (RawH2 h2 = connect("h2")) {
      h2.request(1, "GET", "/reset-before-headers", true);
      RawH2.Stream s = h2.await(1);
      assertThat(s.status()).isEqualTo(503);
      assertThat(s.bodyText()).isEqualTo("upstream connect error or disconnect/reset before headers. reset reason: remote reset");
    }
    try (RawH2 h2 = connect("h1up")) {
      h2.request(1, "GET", "/reset-before-headers", true);
      RawH2.Stream s = h2.await(1);
      assertThat(s.status()).isEqualTo(503);
      assertThat(s.bodyText()).isEqualTo("upstream connect error or disconnect/reset before headers. reset reason: connection termination");
    }
  }

  /** Requests nghttp2 (Envoy's codec) refuses as malformed (RFC 9113 8.1.1, 8.2, 8.3). */
  static final List<String[]> MALFORMED = List.of(
      new String[] {":method", "GET", ":scheme", "http", ":authority", "a"},
      new String[] {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a", "X-Upper", "v"},
      new String[] {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a", "connection", "keep-alive"},
      new String[] {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a", "transfer-encoding", "chunked"},
      new String[] {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a", "te", "gzip"},
      new String[] {":method", "GET", "x-a", "b", ":scheme", "http", ":path", "/", ":authority", "a"});

  @Test
  void malformedRequestsCloseTheConnectionByDefault() throws Exception {
    for (String[] request : MALFORMED) {
      String what = String.join(" ", request);
      long errors = counter("http.h2.downstream_cx_protocol_error");
      long messaging = counter("http2.rx_messaging_error");
      int seen = h2Backend.requests.get();
      try (RawH2 h2 = connect("h2")) {
        h2.headers(1, true, request);
        // Envoy's default: the whole connection goes (GOAWAY PROTOCOL_ERROR, then close).
        assertThat(h2.awaitClose()).as(what).isTrue();
        assertThat(h2.goAwayCode).as(what).isEqualTo(PROTOCOL_ERROR);
        assertThat(h2.stream(1).headers).as(what).isNull();
      }
      assertThat(counter("http.h2.downstream_cx_protocol_error")).as(what).isEqualTo(errors + 1);
      assertThat(counter("http2.rx_messaging_error")).as(what).isEqualTo(messaging + 1);
      assertThat(h2Backend.requests.get()).as(what).isEqualTo(seen);
    }
  }

  @Test
  void malformedRequestsResetOnlyTheStreamWithStreamErrorOnInvalidHttpMessaging() throws Exception {
    for (String[] request : MALFORMED) {
      String what = String.join(" ", request);
      long messaging = counter("http2.rx_messaging_error");
      try (RawH2 h2 = connect("strict")) {
        h2.headers(1, true, request);
        RawH2.Stream s = h2.await(1);
        assertThat(s.headers).as(what).isNull();
        assertThat(s.rstCode).as(what).isEqualTo(PROTOCOL_ERROR);
        assertUsable(h2, 3);
      }
      assertThat(counter("http2.rx_messaging_error")).as(what).isEqualTo(messaging + 1);
    }
  }

  @Test
  void hostStandsInForAMissingAuthority() throws Exception {
    try (RawH2 h2 = connect("h2")) {
      h2.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/host", "host", "example.com");
      RawH2.Stream s = h2.await(1);
      assertThat(s.status()).isEqualTo(200);
      assertThat(s.bodyText()).isEqualTo("ok /host");
    }
  }

  @Test
  void threeHundredConcurrentStreamsAllComplete() throws Exception {
    try (RawH2 h2 = connect("h2")) {
      for (int i = 0; i < 300; i++) {
        h2.request(1 + 2 * i, "GET", "/c/" + i, true);
      }
      assertThat(h2.readUntil(() -> h2.streams.values().stream().filter(RawH2.Stream::done).count() == 300)).isTrue();
      for (int i = 0; i < 300; i++) {
        RawH2.Stream s = h2.stream(1 + 2 * i);
        assertThat(s.status()).isEqualTo(200);
        assertThat(s.bodyText()).isEqualTo("ok /c/" + i);
      }
    }
  }

  @Test
  void maxConcurrentStreamsIsAdvertisedAndEnforced() throws Exception {
    try (RawH2 h2 = connect("limited")) {
      h2.readUntil(() -> h2.serverSettings.containsKey(3));
      assertThat(h2.serverSettings.get(3)).isEqualTo(10L);
      // Ten streams whose responses never end hold every slot; the eleventh is refused.
      for (int i = 0; i < 10; i++) {
        h2.request(1 + 2 * i, "GET", "/headers-only/" + i, true);
      }
      h2.readUntil(() -> h2.streams.values().stream().filter(s -> s.headers != null).count() == 10);
      h2.request(21, "GET", "/one-too-many", true);
      assertThat(h2.await(21).rstCode).isEqualTo(REFUSED_STREAM);
      h2.rst(1, CANCEL);
      assertUsable(h2, 23);
    }
  }

  @Test
  void streamIdleTimeoutAfterTheResponseStartedResetsTheStream() throws Exception {
    long before = counter("http.idle.downstream_rq_idle_timeout");
    try (RawH2 h2 = connect("idle")) {
      h2.request(1, "GET", "/headers-only", true);
      RawH2.Stream s = h2.await(1);
      assertThat(s.status()).isEqualTo(200);
      assertThat(s.ended).isFalse();
      assertThat(s.rstCode).isGreaterThanOrEqualTo(0);
      assertUsable(h2, 3);
    }
    assertThat(counter("http.idle.downstream_rq_idle_timeout")).isEqualTo(before + 1);
  }

  @Test
  void aClientThatStopsReadingStopsTheBackendAndResumingCompletesTheTransfer() throws Exception {
    int total = 8 * 1024 * 1024;
    long writtenBefore = h1Backend.bigWritten.get();
    try (RawH2 h2 = connect("small")) {
      h2.autoWindowUpdate = false;
      h2.request(1, "GET", "/big/" + total, true);
      RawH2.Stream s = h2.stream(1);
      // The proxy may send no more than the stream's (and connection's) window of 65535 bytes...
      h2.readUntil(() -> s.body.size() >= 65535);
      // ...and, the downstream over its buffer limit, stops reading the backend, whose writes block.
      await().atMost(Duration.ofSeconds(10)).until(() -> h1Backend.bigBlocked);
      long stalledAt = h1Backend.bigWritten.get() - writtenBefore;
      assertThat(stalledAt).isLessThan(total / 2);
      assertThat(s.body.size()).isEqualTo(65535);
      // Reading again: everything arrives, in order.
      h2.autoWindowUpdate = true;
      h2.windowUpdate(0, 65535);
      h2.windowUpdate(1, 65535);
      h2.await(1);
      assertThat(s.ended).isTrue();
      byte[] body = s.body.toByteArray();
      assertThat(body).hasSize(total);
      for (int i = 0; i < total; i += 4099) {
        assertThat(body[i]).isEqualTo((byte) ('a' + i % 26));
      }
    }
  }
}
