package dev.sluice.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SRDS from a standalone config source (a watched file, {@code path_config_source}) for a static
 * listener, its scopes' route configurations from another file: a scope dropped from the file is
 * removed (the file holds the whole state), and a bad scope is rejected by name.
 */
class SrdsFileSourceTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private static String scopes(String version, String... keys) {
    StringBuilder sb = new StringBuilder("version_info: \"" + version + "\"\nresources:\n");
    for (String key : keys) {
      sb.append("""
          - "@type": type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration
            name: scope-%1$s
            route_configuration_name: r%1$s
            key: {fragments: [{string_key: "%1$s"}]}
          """.formatted(key));
    }
    return sb.toString();
  }

  private static final String ROUTES = """
      version_info: "1"
      resources:
      - "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
        name: ra
        virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: a}}]}]
      - "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
        name: rb
        virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: a}}]}]
      """;

  private void moveInto(Path target, String text) throws Exception {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private int status(int port, String tenant) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).header("x-tenant", tenant)
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void scopesFromAFileFollowIt() throws Exception {
    Path srds = dir.resolve("srds.yaml");
    Path rds = dir.resolve("rds.yaml");
    Files.writeString(srds, scopes("1", "a", "b"));
    Files.writeString(rds, ROUTES);
    try (TestBackend a = new TestBackend("a"); Server s = TestServers.start("""
        node: {id: n, cluster: test}
        static_resources:
          clusters:
          - name: a
            type: STATIC
            connect_timeout: 1s
            load_assignment: {cluster_name: a, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]}
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
                    name: tenants
                    scope_key_builder: {fragments: [{header_value_extractor: {name: x-tenant}}]}
                    rds_config_source: {path_config_source: {path: '%s'}}
                    scoped_rds: {scoped_rds_config_source: {path_config_source: {path: '%s'}}}
        dynamic_resources: {}
        """.formatted(a.port(), rds, srds))) {
      int port = s.listenerPort("l");
      await().atMost(WAIT).until(() -> status(port, "a") == 200 && status(port, "b") == 200);

      moveInto(srds, scopes("2", "a"));
      await().atMost(WAIT).until(() -> status(port, "b") == 404);
      assertThat(status(port, "a")).isEqualTo(200);

      // A new version of scope-a without a key: rejected, the previous version keeps serving.
      moveInto(srds, scopes("3", "a").replace("key: {fragments: [{string_key: \"a\"}]}", "key: {}"));
      await().atMost(WAIT).until(() -> s.stats().counter("http.in.scoped_rds.tenants.update_rejected").value() == 1);
      assertThat(status(port, "a")).isEqualTo(200);
      assertThat(s.stats().counter("http.in.scoped_rds.tenants.update_success").value()).isEqualTo(2);
    }
  }
}
