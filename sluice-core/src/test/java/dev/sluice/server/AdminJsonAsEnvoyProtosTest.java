package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.config.ProtoTypes;
import io.envoyproxy.envoy.admin.v3.Clusters;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.Listeners;
import io.envoyproxy.envoy.admin.v3.ServerInfo;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin JSON istioctl reads ({@code /config_dump}, {@code /clusters?format=json},
 * {@code /listeners?format=json}, {@code /server_info}) parses back as Envoy's
 * {@code envoy.admin.v3} protos with a strict {@link JsonFormat} parser (unknown fields refused),
 * as Go's protojson in istioctl does.
 */
class AdminJsonAsEnvoyProtosTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static Server server;

  @BeforeAll
  static void start() {
    server = TestServers.start("""
        node: {id: sidecar~10.0.0.1~app.default~default.svc.cluster.local, cluster: app.default}
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: app
            type: STATIC
            connect_timeout: 1s
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9}}}}]}]
          - name: inner
            type: STATIC
            load_assignment:
              cluster_name: inner
              endpoints: [{lb_endpoints: [{endpoint: {address: {envoy_internal_address: {server_listener_name: internal}}}}]}]
          listeners:
          - name: in
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: in, cluster: app}
          - name: internal
            internal_listener: {}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: internal, cluster: app}
        """);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static <T extends Message.Builder> T parse(String path, T builder) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    JsonFormat.parser().usingTypeRegistry(ProtoTypes.get().typeRegistry()).merge(r.body(), builder);
    return builder;
  }

  @Test
  void configDump() throws Exception {
    ConfigDump dump = parse("/config_dump", ConfigDump.newBuilder()).build();
    assertThat(dump.getConfigsList()).extracting(c -> c.getTypeUrl().substring(c.getTypeUrl().lastIndexOf('/') + 1))
        .contains("envoy.admin.v3.BootstrapConfigDump", "envoy.admin.v3.ClustersConfigDump", "envoy.admin.v3.ListenersConfigDump");
  }

  @Test
  void clusters() throws Exception {
    Clusters clusters = parse("/clusters?format=json", Clusters.newBuilder()).build();
    assertThat(clusters.getClusterStatusesList()).extracting(c -> c.getName()).contains("app", "inner");
  }

  @Test
  void listeners() throws Exception {
    Listeners listeners = parse("/listeners?format=json", Listeners.newBuilder()).build();
    assertThat(listeners.getListenerStatusesList()).extracting(l -> l.getName()).contains("in", "internal");
  }

  @Test
  void serverInfo() throws Exception {
    ServerInfo info = parse("/server_info", ServerInfo.newBuilder()).build();
    assertThat(info.getState()).isEqualTo(ServerInfo.State.LIVE);
    assertThat(info.getNode().getId()).startsWith("sidecar~");
  }
}
