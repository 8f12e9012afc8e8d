package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.BootstrapLoader;
import dev.sluice.config.ProtoTypes;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Server#validate()}: every error with its field path, nothing bound. */
class ServerValidateTest {
  private static final Path GOLDENS = Path.of("/work/shared/istio/bootstrap");

  private static List<String> validate(Bootstrap bootstrap) {
    return new Server(TestServers.options(), bootstrap).validate();
  }

  private static Bootstrap golden(String name) {
    // As pilot-agent starts the proxy: --allow-unknown-static-fields.
    return new BootstrapLoader(ProtoTypes.get()).load(GOLDENS.resolve(name), null, true,
        BootstrapLoader.NodeOverrides.NONE);
  }

  @Test
  void reportsEveryErrorWithItsFieldPathAndBindsNothing() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      List<String> errors = validate(TestServers.bootstrap("""
          admin:
            address: {socket_address: {address: not-an-ip, port_value: 0}}
          stats_config:
            stats_tags: [{tag_name: bad, regex: "("}]
          static_resources:
            clusters:
            - name: good
              type: STATIC
              load_assignment:
                cluster_name: good
                endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]
            - name: slow
              connect_timeout: 0s
            - name: good
            listeners:
            - name: unknown_filter
              address: {socket_address: {address: 127.0.0.1, port_value: 0}}
              filter_chains:
              - filters:
                - name: envoy.filters.network.redis_proxy
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
            - name: taken_port
              address: {socket_address: {address: 127.0.0.1, port_value: %d}}
              filter_chains:
              - filters:
                - name: envoy.filters.network.tcp_proxy
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                    stat_prefix: t
                    cluster: good
            - name: taken_port
              address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            - name: no_chains
              address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          """.formatted(taken.getLocalPort())));
      assertThat(errors).containsExactly(
          errors.get(0), // the regex engine's wording, checked below
          "admin.address.socket_address.address: malformed IP address: not-an-ip",
          "static_resources.clusters[1].connect_timeout: must be greater than 0, got PT0S",
          "static_resources.clusters[2].name: duplicate cluster name good",
          "static_resources.listeners[0].filter_chains[0].filters[0].typed_config: Didn't find a "
              + "registered implementation for 'envoy.filters.network.redis_proxy' with type URL: "
              + "'type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy'",
          "static_resources.listeners[2].name: duplicate listener name taken_port",
          "static_resources.listeners[3].filter_chains: no filter chains specified");
      assertThat(errors.get(0)).startsWith("stats_config.stats_tags[0].regex: ");
    }
  }

  @Test
  void validConfigHasNoErrors() {
    assertThat(validate(TestServers.bootstrap("""
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
          - name: dns
            type: STRICT_DNS
            load_assignment:
              cluster_name: dns
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: never.resolved.invalid, port_value: 80}}}}]}]
          listeners:
          - name: http
            address: {socket_address: {address: 0.0.0.0, port_value: 15021}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: s
                  route_config:
                    virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: dns}}]}]
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """))).isEmpty();
  }

  /**
   * Istio's rendered bootstraps. What Sluice lacks today is pinned here so that the list shrinks
   * as support lands: Unix-socket (pipe) endpoints of the sds-grpc and xds-grpc clusters,
   * max_requests_per_connection next to HttpProtocolOptions (Envoy accepts it), and the
   * envoy.filters.http.compressor filter of the Prometheus listener.
   */
  @Test
  void istioGoldensFailOnlyOnKnownGaps() {
    for (String name : List.of("default_golden.json", "runningsds_golden.json")) {
      assertThat(validate(golden(name))).as(name).containsExactly(
          "static_resources.clusters[2].load_assignment.endpoints[0].lb_endpoints[0].endpoint"
              + ".address.socket_address: only socket addresses are supported here",
          "static_resources.clusters[3].typed_extension_protocol_options"
              + "[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]: cannot be combined "
              + "with the legacy cluster fields http_protocol_options, http2_protocol_options, "
              + "common_http_protocol_options or max_requests_per_connection",
          "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0]"
              + ".typed_config: Didn't find a registered implementation for "
              + "'envoy.filters.http.compressor.brotli' with type URL: "
              + "'type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor'");
    }
  }

  /** Without those gaps (the two Unix-socket clusters and the compressors) the goldens validate. */
  @Test
  void istioGoldensWithoutKnownGapsValidate() throws Exception {
    for (String name : List.of("default_golden.json", "runningsds_golden.json")) {
      Bootstrap.Builder b = golden(name).toBuilder();
      var resources = b.getStaticResourcesBuilder();
      var clusters = List.copyOf(resources.getClustersList());
      resources.clearClusters();
      clusters.stream().filter(c -> !c.getName().equals("sds-grpc") && !c.getName().equals("xds-grpc"))
          .forEach(resources::addClusters);
      for (var listener : resources.getListenersBuilderList()) {
        for (var chain : listener.getFilterChainsBuilderList()) {
          for (Filter.Builder f : chain.getFiltersBuilderList()) {
            HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
            var filters = List.copyOf(hcm.getHttpFiltersList());
            var stripped = hcm.toBuilder().clearHttpFilters();
            filters.stream().filter(h -> !h.getName().startsWith("envoy.filters.http.compressor"))
                .forEach(stripped::addHttpFilters);
            f.setTypedConfig(com.google.protobuf.Any.pack(stripped.build()));
          }
        }
      }
      assertThat(validate(b.build())).as(name).isEmpty();
    }
  }
}
