package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Inline scoped routes ({@code scoped_route_configurations_list}) through a full server, real
 * backends and a real HTTP client: the scope key is the {@code vip} element of
 * {@code x-route-selector} (Envoy's documented example); a request without it, or whose key no
 * scope has, gets Envoy's 404 with response flag NR (counted as no_route); /config_dump lists the
 * inline scopes.
 */
class ScopedRoutesInlineTest {
  private static final String CONFIG = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        clusters:
        - name: a
          type: STATIC
          connect_timeout: 1s
          load_assignment: {cluster_name: a, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]}
        - name: b
          type: STATIC
          connect_timeout: 1s
          load_assignment: {cluster_name: b, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]}
        listeners:
        - name: l
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: in
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                scoped_routes:
                  name: vips
                  scope_key_builder:
                    fragments:
                    - header_value_extractor: {name: X-Route-Selector, element_separator: ",", element: {key: vip, separator: "="}}
                  scoped_route_configurations_list:
                    scoped_route_configurations:
                    - name: scope-a
                      key: {fragments: [{string_key: 172.10.10.20}]}
                      route_configuration:
                        name: ra
                        virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: a}}]}]
                    - name: scope-b
                      key: {fragments: [{string_key: 172.20.20.30}]}
                      route_configuration:
                        name: rb
                        virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: b}}]}]
      """;

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private HttpResponse<String> get(int port, String path, String selector) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20));
    if (selector != null) {
      r.header("X-Route-Selector", selector);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void routesEachRequestByItsScope() throws Exception {
    try (TestBackend a = new TestBackend("a"); TestBackend b = new TestBackend("b");
        Server s = TestServers.start(CONFIG.formatted(a.port(), b.port()))) {
      int port = s.listenerPort("l");
      assertThat(get(port, "/", "vip=172.10.10.20").headers().firstValue("x-backend")).hasValue("a");
      assertThat(get(port, "/", "foo=1,vip=172.20.20.30").headers().firstValue("x-backend")).hasValue("b");
      assertThat(get(port, "/", "vip=10.0.0.1").statusCode()).isEqualTo(404);
      assertThat(get(port, "/", null).statusCode()).isEqualTo(404);
      assertThat(a.requests.get() + b.requests.get()).isEqualTo(2);
      // The router's no-route answer (flag NR, details route_not_found) counts no_route.
      assertThat(s.stats().counter("http.in.no_route").value()).isEqualTo(2);

      String dump = get(s.adminPort(), "/config_dump", null).body();
      assertThat(dump).contains("envoy.admin.v3.ScopedRoutesConfigDump").contains("\"inline_scoped_route_configs\"")
          .contains("\"vips\"").contains("\"scope-a\"").contains("\"scope-b\"");
    }
  }

  @Test
  void duplicateKeysAndRdsInInlineScopesAreRefused() throws Exception {
    String duplicate = CONFIG.formatted(1, 2).replace("172.20.20.30", "172.10.10.20");
    assertThatThrownBy(() -> TestServers.start(duplicate)).hasMessageContaining("scoped_routes.scoped_route_configurations_list")
        .hasMessageContaining("scope key conflict found, first scope is 'scope-a', second scope is 'scope-b'");
    String rds = CONFIG.formatted(1, 2).replace("route_configuration:\n                  name: rb",
        "route_configuration_name: rb\n                route_configuration:\n                  name: rb");
    assertThat(rds).contains("route_configuration_name: rb");
    assertThatThrownBy(() -> TestServers.start(rds)).hasMessageContaining("route_configuration_name");
  }
}
