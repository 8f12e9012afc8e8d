package dev.sluice.extensions.filters.listener.original_src;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code original_src} over real loopback sockets: clients connect from other loopback addresses
 * (127.0.0.2, 127.0.0.3) and the app behind the proxy sees those addresses, not the proxy's nor the
 * cluster's {@code upstream_bind_config} (127.0.0.6). {@code IP_TRANSPARENT} and {@code SO_MARK}
 * need {@code CAP_NET_ADMIN}: root only.
 */
class OriginalSrcIntegrationTest {
  private static HttpServer app;
  private static ServerSocket tcpApp;
  private static Thread tcpAcceptor;

  @BeforeAll
  static void startApps() throws IOException {
    assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0,
        "original_src sets IP_TRANSPARENT and SO_MARK, which need CAP_NET_ADMIN: run as root");
    app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    // Answers with the peer address it sees.
    app.createContext("/", exchange -> {
      byte[] body = exchange.getRemoteAddress().toString().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    app.start();
    tcpApp = new ServerSocket(0, 16, java.net.InetAddress.getByName("127.0.0.1"));
    tcpAcceptor = Thread.ofVirtual().start(() -> {
      while (!tcpApp.isClosed()) {
        try (Socket s = tcpApp.accept()) {
          s.getOutputStream().write(s.getRemoteSocketAddress().toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
          return;
        }
      }
    });
  }

  @AfterAll
  static void stopApps() throws Exception {
    if (app != null) {
      app.stop(0);
      tcpApp.close();
      tcpAcceptor.join();
    }
  }

  private static String yaml() {
    String hcm = """
          - name: envoy.filters.network.http_connection_manager
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
              stat_prefix: %s
              route_config:
                virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: %s}}]}]
              http_filters:
              - name: envoy.filters.http.router
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """;
    String originalSrc = """
        listener_filters:
        - name: envoy.filters.listener.original_src
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_src.v3.OriginalSrc, mark: 1337}
        """.indent(4);
    String bind = "upstream_bind_config: {source_address: {address: 127.0.0.6, port_value: 0}}";
    return """
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        %s
            filter_chains:
            - filters:
        %s
          - name: plain
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
        %s
          - name: tcp
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        %s
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: tcp
                  cluster: tcp_app
          clusters:
          - name: app
            connect_timeout: 2s
            %s
            load_assignment: {cluster_name: app, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]}
          - name: plain_app
            connect_timeout: 2s
            %s
            load_assignment: {cluster_name: plain_app, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]}
          - name: tcp_app
            connect_timeout: 2s
            %s
            load_assignment: {cluster_name: tcp_app, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]}
        """.formatted(originalSrc, hcm.formatted("inbound", "app").indent(4), hcm.formatted("plain", "plain_app").indent(4), originalSrc,
        bind, app.getAddress().getPort(), bind, app.getAddress().getPort(), bind, tcpApp.getLocalPort());
  }

  @Test
  void upstreamConnectionsLeaveFromTheDownstreamsAddressInPoolsOfTheirOwn() throws IOException {
    try (Server server = TestServers.start(yaml())) {
      int port = server.listenerPort("http");
      try (Socket a = client("127.0.0.2", port); Socket b = client("127.0.0.3", port)) {
        String a1 = get(a);
        String b1 = get(b);
        String a2 = get(a);
        assertThat(a1).startsWith("/127.0.0.2:");
        assertThat(b1).startsWith("/127.0.0.3:");
        // Keep-alive within one downstream: its second request reuses its own upstream connection.
        assertThat(a2).isEqualTo(a1);
        assertThat(server.stats().counter("cluster.app.upstream_cx_total").value()).isEqualTo(2);
      }
      // A downstream's pool drains when it closes: its upstream connection goes with it.
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().gauge("cluster.app.upstream_cx_active").value() == 0);

      // Without original_src, the cluster's upstream_bind_config applies as before.
      try (Socket c = client("127.0.0.2", server.listenerPort("plain"))) {
        assertThat(get(c)).startsWith("/127.0.0.6:");
      }
    }
  }

  @Test
  void tcpProxyConnectsFromTheDownstreamsAddress() throws IOException {
    try (Server server = TestServers.start(yaml()); Socket s = client("127.0.0.3", server.listenerPort("tcp"))) {
      s.shutdownOutput();
      assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).startsWith("/127.0.0.3:");
    }
  }

  private static Socket client(String from, int port) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(from, 0));
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(10_000);
    return s;
  }

  /** One HTTP/1.1 keep-alive GET on {@code s}; the response body. */
  private static String get(Socket s) throws IOException {
    s.getOutputStream().write("GET /who HTTP/1.1\r\nhost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed after " + head);
      }
      head.write(c);
    }
    String headers = head.toString(StandardCharsets.US_ASCII);
    assertThat(headers).startsWith("HTTP/1.1 200");
    int length = 0;
    for (String line : headers.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).strip());
      }
    }
    return new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }
}
