package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.ProxyHarness;
import dev.sluice.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** HTTP/1.1 through the proxy to real HTTP/1.1 and HTTP/2 upstreams, over loopback sockets. */
class HttpProxyIntegrationTest {
  static TestBackend backend;
  static ProxyHarness proxy;
  static int port;
  static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    backend = new TestBackend("b1");
    proxy = new ProxyHarness(2, List.of(
        ProxyHarness.staticCluster("h1", "", backend.port()),
        ProxyHarness.staticCluster("h2", ProxyHarness.H2_UPSTREAM, backend.port())));
    port = proxy.addListener(ProxyHarness.httpListener("http", """
        stat_prefix: ingress
        stream_idle_timeout: 10s
        http_filters:
        - name: envoy.filters.http.router
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        route_config:
          name: local
          validate_clusters: false
          virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
            - match: {prefix: /direct}
              direct_response: {status: 200, body: {inline_string: hello}}
            - match: {prefix: /redirect}
              redirect: {host_redirect: example.com}
            - match: {prefix: /missing}
              route: {cluster: does-not-exist}
              response_headers_to_add: [{header: {key: x-route, value: missing}}]
            - match: {prefix: /h2/}
              route: {cluster: h2, prefix_rewrite: /}
            - match: {prefix: /}
              route: {cluster: h1}
        """));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  static HttpResponse<String> get(String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void proxiesToHttp1Upstream() throws Exception {
    HttpResponse<String> r = get("/headers");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-backend")).hasValue("b1");
    assertThat(r.headers().firstValue("server")).hasValue("envoy");
    assertThat(r.headers().firstValue("x-envoy-upstream-service-time")).isPresent();
    assertThat(r.body()).contains("x-request-id: ").contains("x-forwarded-proto: http").contains(":path: /headers")
        .contains("x-envoy-expected-rq-timeout-ms: 15000");
    assertThat(proxy.counter("http.ingress.downstream_rq_2xx")).isGreaterThanOrEqualTo(1);
    assertThat(proxy.counter("cluster.h1.upstream_rq_200")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void proxiesToHttp2Upstream() throws Exception {
    HttpResponse<String> r = get("/h2/headers");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains(":path: /headers").contains("x-envoy-original-path: /h2/headers");
    assertThat(proxy.counter("cluster.h2.upstream_cx_http2_total")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void postsABodyBothWays() throws Exception {
    byte[] body = new byte[3 * 1024 * 1024];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) (i * 31);
    }
    for (String path : List.of("/echo", "/h2/echo")) {
      HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(body);
    }
  }

  @Test
  void localAnswers() throws Exception {
    HttpResponse<String> direct = get("/direct");
    assertThat(direct.statusCode()).isEqualTo(200);
    assertThat(direct.body()).isEqualTo("hello");
    HttpResponse<String> redirect = get("/redirect/x");
    assertThat(redirect.statusCode()).isEqualTo(301);
    assertThat(redirect.headers().firstValue("location")).hasValue("http://example.com/redirect/x");
    HttpResponse<String> missing = get("/missing");
    assertThat(missing.statusCode()).isEqualTo(503);
    // As Envoy, the route's response headers are added to the cluster-not-found reply too.
    assertThat(missing.headers().firstValue("x-route")).hasValue("missing");
    assertThat(proxy.counter("http.ingress.no_cluster")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void reusesUpstreamConnections() throws Exception {
    long before = proxy.counter("cluster.h1.upstream_cx_total");
    for (int i = 0; i < 20; i++) {
      assertThat(get("/keepalive").statusCode()).isEqualTo(200);
    }
    // The client reuses one downstream connection, so one worker and at most one new upstream connection.
    assertThat(proxy.counter("cluster.h1.upstream_cx_total") - before).isLessThanOrEqualTo(1);
  }
}
