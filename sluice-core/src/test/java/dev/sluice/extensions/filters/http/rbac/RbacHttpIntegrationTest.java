package dev.sluice.extensions.filters.http.rbac;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP RBAC filter through a full server to a real backend: a DENY policy answers 403
 * {@code RBAC: access denied} over HTTP/1.1 and HTTP/2 without reaching the backend, other requests
 * pass, shadow rules only count, and {@code RBACPerRoute} without rules turns the filter off on a route.
 */
class RbacHttpIntegrationTest {
  private static TestBackend backend;
  private static Server server;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    backend = new TestBackend("app");
    server = TestServers.start(("""
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: app
            type: STATIC
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          listeners:
        """ + ProxyYaml.hcmListener("in", "inbound", """
                  route_config:
                    virtual_hosts:
                    - name: app
                      domains: ["*"]
                      routes:
                      - match: {prefix: /open}
                        route: {cluster: app}
                        typed_per_filter_config:
                          envoy.filters.http.rbac: {"@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute}
                      - match: {prefix: /}
                        route: {cluster: app}
                  http_filters:
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      rules:
                        action: DENY
                        policies:
                          deny-admin:
                            permissions: [{or_rules: {rules: [{url_path: {path: {prefix: /admin}}}, {url_path: {path: {prefix: /open/admin}}}]}}]
                            principals: [{direct_remote_ip: {address_prefix: 127.0.0.0, prefix_len: 8}}]
                      shadow_rules:
                        policies:
                          only-get:
                            permissions: [{header: {name: ":method", string_match: {exact: GET}}}]
                            principals: [{any: true}]
                      shadow_rules_stat_prefix: dry_
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  """)).formatted(backend.port()));
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

  private static HttpResponse<String> send(String method, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("in") + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static long counter(String name) {
    return server.stats().counter("http.inbound.rbac." + name).value();
  }

  @Test
  void aDeniedRequestGets403AndNeverReachesTheBackend() throws Exception {
    long denied = counter("denied");
    int served = backend.requests.get();
    HttpResponse<String> r = send("GET", "/admin/users?x=1");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).isEqualTo("RBAC: access denied");
    assertThat(counter("denied")).isEqualTo(denied + 1);
    assertThat(backend.requests.get()).isEqualTo(served);
  }

  @Test
  void aDeniedRequestOverHttp2() throws Exception {
    Process p = new ProcessBuilder("curl", "-sS", "-i", "--http2-prior-knowledge", "--max-time", "10",
        "http://127.0.0.1:" + server.listenerPort("in") + "/admin").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
    assertThat(out).startsWith("HTTP/2 403").endsWith("RBAC: access denied");
  }

  @Test
  void allowedRequestsPassAndShadowRulesOnlyCount() throws Exception {
    long allowed = counter("allowed");
    long shadowAllowed = counter("dry_shadow_allowed");
    long shadowDenied = counter("dry_shadow_denied");
    assertThat(send("GET", "/ratings").statusCode()).isEqualTo(200);
    HttpResponse<String> post = send("POST", "/ratings");
    assertThat(post.statusCode()).isEqualTo(200);
    assertThat(post.headers().firstValue("x-backend")).hasValue("app");
    assertThat(counter("allowed")).isEqualTo(allowed + 2);
    assertThat(counter("dry_shadow_allowed")).isEqualTo(shadowAllowed + 1);
    assertThat(counter("dry_shadow_denied")).isEqualTo(shadowDenied + 1);
  }

  @Test
  void anEmptyPerRouteConfigTurnsTheFilterOff() throws Exception {
    long denied = counter("denied");
    assertThat(send("GET", "/open/admin").statusCode()).isEqualTo(200);
    assertThat(counter("denied")).isEqualTo(denied);
  }
}
