package dev.sluice.extensions.filters.passthrough;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Istio's sidecar filters as the sidecar dump configures them (network: {@code istio_authn},
 * {@code istio.metadata_exchange}, {@code istio.stats}; HTTP: the null-VM metadata exchange,
 * {@code istio.alpn}, {@code grpc_stats}, {@code istio.stats}) load in a full server and carry
 * HTTP requests and a TCP stream to a real backend unchanged.
 */
class IstioPassThroughIntegrationTest {
  private static final String ISTIO_NETWORK_FILTERS = """
            - name: istio_authn
              typed_config: {"@type": type.googleapis.com/udpa.type.v1.TypedStruct, type_url: type.googleapis.com/io.istio.network.authn.Config}
            - name: istio.metadata_exchange
              typed_config: {"@type": type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange, protocol: istio-peer-exchange}
            - name: istio.stats
              typed_config: {"@type": type.googleapis.com/stats.PluginConfig}
      """;
  private static TestBackend backend;
  private static Server server;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() throws Exception {
    backend = new TestBackend("b");
    server = TestServers.start("""
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
          - name: backend
            type: STATIC
            load_assignment:
              cluster_name: backend
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
        %s      - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: inbound_0.0.0.0_9080
                  route_config:
                    virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}]
                  http_filters:
                  - name: istio.metadata_exchange
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        vm_config: {runtime: envoy.wasm.runtime.null, code: {local: {inline_string: envoy.wasm.metadata_exchange}}}
                        configuration: {"@type": type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange}
                  - name: istio.alpn
                    typed_config:
                      "@type": type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig
                      alpn_override: [{alpn_override: [istio-http/1.1, istio, http/1.1], upstream_protocol: HTTP11}]
                  - name: envoy.filters.http.grpc_stats
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig, emit_filter_state: true}
                  - name: istio.stats
                    typed_config: {"@type": type.googleapis.com/stats.PluginConfig}
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          - name: tcp
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
        %s      - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: backend, cluster: backend}
        """.formatted(backend.port(), ISTIO_NETWORK_FILTERS, ISTIO_NETWORK_FILTERS));
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

  private static HttpResponse<String> post(String listener, String body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort(listener) + "/echo"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void httpThroughTheIstioFiltersReachesTheBackendUnchanged() throws Exception {
    HttpResponse<String> r = post("http", "through the sidecar filters");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("through the sidecar filters");
    assertThat(server.stats().counter("http.inbound_0.0.0.0_9080.downstream_rq_2xx").value()).isEqualTo(1);
  }

  @Test
  void tcpThroughTheIstioNetworkFiltersReachesTheBackendUnchanged() throws Exception {
    HttpResponse<String> r = post("tcp", "through tcp_proxy");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("through tcp_proxy");
  }
}
