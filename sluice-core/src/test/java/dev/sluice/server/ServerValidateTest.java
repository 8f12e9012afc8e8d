package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.BootstrapLoader;
import dev.sluice.config.ProtoTypes;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
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
   * Istio's rendered bootstraps validate as Envoy's: pipe endpoints (xds-grpc, sds-grpc), the legacy
   * max_requests_per_connection next to HttpProtocolOptions, the brotli/zstd/gzip compressors, and
   * the features that do not run yet (internal listener, ADS, zipkin, statsd) accepted.
   */
  @Test
  void istioGoldensValidate() {
    for (String name : List.of("default_golden.json", "runningsds_golden.json")) {
      assertThat(validate(golden(name))).as(name).isEmpty();
    }
  }

  /** Envoy refuses extension types it does not have; so does validation, naming the field. */
  @Test
  void unknownBootstrapExtensionTypesAndBadReferencesAreErrors() {
    List<String> errors = validate(TestServers.bootstrap("""
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: ""
        bootstrap_extensions:
        - name: envoy.bootstrap.wasm
          typed_config: {"@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService}
        stats_sinks:
        - name: envoy.stat_sinks.statsd
          typed_config:
            "@type": type.googleapis.com/envoy.config.metrics.v3.StatsdSink
            address: {socket_address: {address: 127.0.0.1, port_value: 9125}}
        tracing:
          http:
            name: envoy.tracers.zipkin
            typed_config: {"@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig, collector_cluster: zipkin, collector_endpoint: /api/v2/spans}
        dynamic_resources:
          cds_config: {ads: {}, resource_api_version: V3}
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            grpc_services: [{envoy_grpc: {cluster_name: missing}}]
        overload_manager:
          resource_monitors:
          - name: envoy.resource_monitors.fixed_heap
            typed_config: {"@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig, max_heap_size_bytes: 1000}
        """));
    assertThat(errors).hasSize(2);
    assertThat(errors.get(0)).isEqualTo("bootstrap_extensions[0].typed_config: Didn't find a registered "
        + "implementation for 'envoy.bootstrap.wasm' with type URL: "
        + "'type.googleapis.com/envoy.extensions.wasm.v3.WasmService'");
    assertThat(errors.get(1)).startsWith("admin.access_log[0].typed_config");

    assertThat(validate(TestServers.bootstrap("""
        dynamic_resources:
          ads_config:
            api_type: GRPC
            grpc_services: [{envoy_grpc: {cluster_name: missing}}]
        """))).containsExactly("dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name: "
        + "unknown static cluster 'missing'");
    assertThat(validate(TestServers.bootstrap("""
        overload_manager:
          resource_monitors:
          - name: envoy.resource_monitors.fixed_heap
            typed_config: {"@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig, max_heap_size_bytes: 1000}
        """))).containsExactly("overload_manager.resource_monitors[0].typed_config: Didn't find a "
        + "registered implementation for 'envoy.resource_monitors.fixed_heap' with type URL: "
        + "'type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig'");
    assertThat(validate(TestServers.bootstrap("""
        tracing:
          http:
            name: envoy.tracers.xray
            typed_config: {"@type": type.googleapis.com/envoy.config.trace.v3.XRayConfig}
        """))).containsExactly("tracing.http.typed_config: Didn't find a registered implementation for "
        + "'envoy.tracers.xray' with type URL: 'type.googleapis.com/envoy.config.trace.v3.XRayConfig'");
  }
}
