package dev.sluice.listener;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import io.envoyproxy.envoy.admin.v3.Clusters;
import io.envoyproxy.envoy.admin.v3.Listeners;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Internal listeners as Istio configures them: a cluster whose endpoints are
 * {@code envoy_internal_address}es (with Istio's {@code internal_upstream} transport socket and
 * {@code tunnel} endpoint metadata) carries requests, in process, to a listener that has no socket
 * ({@code internal_listener}); there {@code istio.set_internal_dst_address} restores the
 * destination from the metadata, so the filter chain is chosen by the tunnel's destination port.
 */
class InternalListenerIntegrationTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static TestBackend backend;
  private static Server server;

  @BeforeAll
  static void start() throws Exception {
    backend = new TestBackend("app");
    String internalCluster = """
          - name: %s
            type: STATIC
            transport_socket:
              name: internal_upstream
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport
                passthrough_metadata: [{kind: {host: {}}, name: tunnel}]
                transport_socket: {name: raw_buffer, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}
            load_assignment:
              cluster_name: %s
              endpoints: [{lb_endpoints: [{endpoint: {address: {envoy_internal_address: {server_listener_name: inner}}},
                                           metadata: {filter_metadata: {tunnel: {destination: '%s'}}}}]}]
        """;
    server = TestServers.start("""
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        bootstrap_extensions:
        - name: envoy.bootstrap.internal_listener
          typed_config: {"@type": type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener}
        static_resources:
          clusters:
          - name: app
            type: STATIC
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
        %s%s
          listeners:
          - name: inner
            internal_listener: {}
            listener_filters:
            - name: set_dst_address
              typed_config:
                "@type": type.googleapis.com/udpa.type.v1.TypedStruct
                type_url: type.googleapis.com/istio.set_internal_dst_address.v1.Config
            filter_chains:
            - filter_chain_match: {destination_port: 9080}
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: inner_9080
                  route_config:
                    virtual_hosts: [{name: app, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: app}}]}]
                  http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
            - filter_chain_match: {destination_port: 7000}
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: inner_7000
                  route_config:
                    virtual_hosts: [{name: seven, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200, body: {inline_string: seven}}}]}]
                  http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
          - name: front
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: front
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - {match: {prefix: /seven}, route: {cluster: to_inner_7000}}
                      - {match: {prefix: /}, route: {cluster: to_inner_9080}}
                  http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
          - name: front_tcp
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: front_tcp
                  cluster: to_inner_9080
        """.formatted(backend.port(),
            internalCluster.formatted("to_inner_9080", "to_inner_9080", "10.1.2.3:9080"),
            internalCluster.formatted("to_inner_7000", "to_inner_7000", "10.1.2.3:7000")));
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

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void requestsCrossTheInternalListenerToTheChainOfTheTunnelsDestinationPort() throws Exception {
    int served = backend.requests.get();
    HttpResponse<String> r = get(server.listenerPort("front"), "/hello");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("ok GET /hello");
    assertThat(backend.requests.get()).isEqualTo(served + 1);
    assertThat(server.stats().counter("http.inner_9080.downstream_rq_total").value()).isGreaterThanOrEqualTo(1);

    HttpResponse<String> seven = get(server.listenerPort("front"), "/seven");
    assertThat(seven.statusCode()).isEqualTo(200);
    assertThat(seven.body()).isEqualTo("seven");
  }

  @Test
  void tcpProxyCarriesBytesThroughTheInternalListener() throws Exception {
    // The TCP listener's cluster is the same internal one: raw HTTP/1.1 bytes reach the 9080 chain.
    HttpResponse<String> r = get(server.listenerPort("front_tcp"), "/via-tcp");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("ok GET /via-tcp");
  }

  @Test
  void adminShowsTheInternalAddresses() throws Exception {
    String text = get(server.adminPort(), "/listeners").body();
    assertThat(text).contains("inner::envoy://inner/\n");
    Listeners.Builder listeners = Listeners.newBuilder();
    JsonFormat.parser().merge(get(server.adminPort(), "/listeners?format=json").body(), listeners);
    assertThat(listeners.getListenerStatusesList()).anySatisfy(s -> {
      assertThat(s.getName()).isEqualTo("inner");
      assertThat(s.getLocalAddress().getEnvoyInternalAddress().getServerListenerName()).isEqualTo("inner");
    });
    Clusters.Builder clusters = Clusters.newBuilder();
    JsonFormat.parser().merge(get(server.adminPort(), "/clusters?format=json").body(), clusters);
    assertThat(clusters.getClusterStatusesList()).anySatisfy(c -> {
      assertThat(c.getName()).isEqualTo("to_inner_9080");
      assertThat(c.getHostStatuses(0).getAddress().getEnvoyInternalAddress().getServerListenerName()).isEqualTo("inner");
    });
  }
}
