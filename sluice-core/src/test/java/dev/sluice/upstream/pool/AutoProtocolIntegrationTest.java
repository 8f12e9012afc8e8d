package dev.sluice.upstream.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clusters with {@code auto_config} through a full server: over TLS the ALPN of each connection
 * picks HTTP/2 or HTTP/1.1 (Envoy's mixed pool), over plaintext HTTP/1.1; the cluster's
 * {@code upstream_cx_http2_total}/{@code upstream_cx_http1_total} show the choice.
 */
class AutoProtocolIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static Path[] pki;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void certificates(@TempDir Path dir) throws Exception {
    pki = AlpnBackend.selfSigned(dir);
  }

  private static AlpnBackend backend(boolean holdHandshakes, String... alpn) throws Exception {
    return new AlpnBackend(pki[0], pki[1], holdHandshakes, alpn);
  }

  /** One cluster {@code c} to {@code port}, with the given protocol options and TLS or not, behind listener "http". */
  private static String config(int port, String protocolOptions, boolean tls) {
    String transport = !tls ? "" : """
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                sni: backend.test
        """;
    return """
        static_resources:
          clusters:
          - name: c
            type: STATIC
            connect_timeout: 5s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                %s
        %s
            load_assignment:
              cluster_name: c
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
          listeners:
        %s""".formatted(protocolOptions, transport, port, ProxyYaml.listener("http", "c"));
  }

  private static final String AUTO = "auto_config: {}";

  private CompletableFuture<HttpResponse<String>> get(Server server, String path) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("http") + path))
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static long counter(Server server, String name) {
    return server.stats().counter("cluster.c." + name).value();
  }

  private static long gauge(Server server, String name) {
    return server.stats().gauge("cluster.c." + name).value();
  }

  @Test
  void h2BackendNegotiatesHttp2AndLaterRequestsShareTheConnection() throws Exception {
    try (AlpnBackend backend = backend(false, "h2", "http/1.1");
        Server server = TestServers.start(config(backend.port(), AUTO, true))) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = get(server, "/r" + i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("h2 /r" + i);
      }
      assertThat(counter(server, "upstream_cx_http2_total")).isEqualTo(1);
      assertThat(counter(server, "upstream_cx_http1_total")).isZero();
      assertThat(counter(server, "upstream_cx_total")).isEqualTo(1);
      assertThat(backend.connections).hasValue(1);
    }
  }

  @Test
  void http11OnlyBackendGetsHttp11() throws Exception {
    try (AlpnBackend backend = backend(false, "http/1.1");
        Server server = TestServers.start(config(backend.port(), AUTO, true))) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> r = get(server, "/r" + i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("http/1.1 /r" + i);
      }
      // Sequential requests reuse the one keep-alive connection.
      assertThat(counter(server, "upstream_cx_http1_total")).isEqualTo(1);
      assertThat(counter(server, "upstream_cx_http2_total")).isZero();
      assertThat(counter(server, "upstream_cx_total")).isEqualTo(1);
    }
  }

  @Test
  void requestsArrivingDuringTheFirstHandshakeAllGoOverTheNegotiatedHttp2() throws Exception {
    try (AlpnBackend backend = backend(true, "h2", "http/1.1");
        Server server = TestServers.start(config(backend.port(), AUTO, true))) {
      List<CompletableFuture<HttpResponse<String>>> responses = concurrently(server, backend, 5);
      // One probing connection: HTTP/2 may carry them all.
      assertThat(backend.connections).hasValue(1);
      assertThat(counter(server, "upstream_cx_total")).isEqualTo(1);
      backend.releaseHandshakes();
      for (int i = 0; i < responses.size(); i++) {
        HttpResponse<String> r = responses.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("h2 /c" + i);
      }
      assertThat(counter(server, "upstream_cx_http2_total")).isEqualTo(1);
      assertThat(counter(server, "upstream_cx_http1_total")).isZero();
      assertThat(counter(server, "upstream_rq_pending_total")).isEqualTo(5);
      assertThat(gauge(server, "upstream_rq_pending_active")).isZero();
    }
  }

  @Test
  void requestsArrivingDuringTheFirstHandshakeGetHttp11ConnectionsOfTheirOwn() throws Exception {
    try (AlpnBackend backend = backend(true, "http/1.1");
        Server server = TestServers.start(config(backend.port(), AUTO, true))) {
      List<CompletableFuture<HttpResponse<String>>> responses = concurrently(server, backend, 4);
      assertThat(backend.connections).hasValue(1);
      backend.releaseHandshakes();
      for (int i = 0; i < responses.size(); i++) {
        HttpResponse<String> r = responses.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("http/1.1 /c" + i);
      }
      // The probe plus one connection for each other waiting request, each counted once.
      assertThat(counter(server, "upstream_cx_http1_total")).isEqualTo(4);
      assertThat(counter(server, "upstream_cx_http2_total")).isZero();
      assertThat(counter(server, "upstream_cx_total")).isEqualTo(4);
      assertThat(backend.connections).hasValue(4);
      assertThat(gauge(server, "upstream_rq_pending_active")).isZero();
      await().atMost(WAIT).untilAsserted(() -> assertThat(gauge(server, "upstream_rq_active")).isZero());
      assertThat(gauge(server, "upstream_cx_active")).isEqualTo(4);
    }
  }

  @Test
  void aHostThatStopsOfferingH2IsReachedOverHttp11Again() throws Exception {
    AlpnBackend h2 = backend(false, "h2", "http/1.1");
    int port = h2.port();
    try (Server server = TestServers.start(config(port, AUTO, true))) {
      assertThat(get(server, "/first").get(WAIT.toSeconds(), TimeUnit.SECONDS).body()).isEqualTo("h2 /first");
      h2.close();
      await().atMost(WAIT).untilAsserted(() -> assertThat(gauge(server, "upstream_cx_active")).isZero());
      // Same address, now HTTP/1.1 only: the remembered HTTP/2 sends the request to the HTTP/2
      // part, whose new connection negotiates http/1.1 and moves it to the HTTP/1.1 part.
      try (AlpnBackend h1 = new AlpnBackend(pki[0], pki[1], port, false, "http/1.1")) {
        assertThat(get(server, "/second").get(WAIT.toSeconds(), TimeUnit.SECONDS).body()).isEqualTo("http/1.1 /second");
        assertThat(get(server, "/third").get(WAIT.toSeconds(), TimeUnit.SECONDS).body()).isEqualTo("http/1.1 /third");
        assertThat(counter(server, "upstream_cx_http2_total")).isEqualTo(1);
        assertThat(counter(server, "upstream_cx_http1_total")).isEqualTo(1);
        assertThat(h1.connections).hasValue(1);
      }
    } finally {
      h2.close();
    }
  }

  @Test
  void plaintextAutoClusterSpeaksHttp11() throws Exception {
    try (TestBackend backend = new TestBackend("plain");
        Server server = TestServers.start(config(backend.port(), AUTO, false))) {
      HttpResponse<String> r = get(server, "/plain").get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("ok GET /plain");
      assertThat(counter(server, "upstream_cx_http1_total")).isEqualTo(1);
      assertThat(counter(server, "upstream_cx_http2_total")).isZero();
    }
  }

  @Test
  void explicitHttp2OverTlsOpensOneConnectionForRequestsArrivingDuringItsHandshake() throws Exception {
    try (AlpnBackend backend = backend(true, "h2");
        Server server = TestServers.start(config(backend.port(), "explicit_http_config: {http2_protocol_options: {}}", true))) {
      List<CompletableFuture<HttpResponse<String>>> responses = concurrently(server, backend, 4);
      assertThat(backend.connections).hasValue(1);
      backend.releaseHandshakes();
      for (int i = 0; i < responses.size(); i++) {
        assertThat(responses.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS).body()).isEqualTo("h2 /c" + i);
      }
      assertThat(counter(server, "upstream_cx_total")).isEqualTo(1);
    }
  }

  /** Sends {@code n} requests {@code /c<i>} and waits until all wait in the pool for the held handshake. */
  private List<CompletableFuture<HttpResponse<String>>> concurrently(Server server, AlpnBackend backend, int n) {
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      responses.add(get(server, "/c" + i));
    }
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(gauge(server, "upstream_rq_pending_active")).isEqualTo(n);
      assertThat(backend.connections.get()).isPositive();
    });
    return responses;
  }
}
