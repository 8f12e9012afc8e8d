package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sluice.api.config.ConfigException;
import dev.sluice.stats.ServerState;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A whole server over real sockets on 127.0.0.1: admin, a TCP proxy and an HTTP listener. */
class ServerTest {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ServerSocket echo;

  @BeforeEach
  void startEcho() throws IOException {
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(() -> {
      while (!echo.isClosed()) {
        try {
          Socket s = echo.accept();
          Thread.ofVirtual().start(() -> {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
              in.transferTo(out);
            } catch (IOException e) {
              // the peer went away: nothing to echo
            }
          });
        } catch (IOException e) {
          return; // closed by the test
        }
      }
    });
  }

  @AfterEach
  void stopEcho() throws IOException {
    echo.close();
  }

  /** Admin on port 0, cluster "echo" to the echo server, listeners "tcp" (tcp_proxy) and "http". */
  private String config() {
    return """
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        layered_runtime:
          layers:
          - name: static
            static_layer: {a: {b: 1, c: "x"}, flag: true}
          - name: admin
            admin_layer: {}
        static_resources:
          clusters:
          - name: echo
            type: STATIC
            connect_timeout: 1s
            load_assignment:
              cluster_name: echo
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
          listeners:
          - name: tcp
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            traffic_direction: INBOUND
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: echo
                  cluster: echo
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            traffic_direction: OUTBOUND
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        direct_response: {status: 200, body: {inline_string: hello}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        """.formatted(echo.getLocalPort());
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void startsLiveAndProxiesTcp() throws Exception {
    try (Server server = TestServers.start(config())) {
      int admin = server.adminPort();
      assertThat(get(admin, "/ready").statusCode()).isEqualTo(200);
      assertThat(get(admin, "/ready").body()).isEqualTo("LIVE\n");
      assertThat(server.state()).isEqualTo(ServerState.LIVE);

      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.listenerPort("tcp"))) {
        s.setSoTimeout(5000);
        s.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(s.getInputStream().readNBytes(5), StandardCharsets.US_ASCII))
            .isEqualTo("ping\n");
      }

      String stats = get(admin, "/stats").body();
      assertThat(stats).contains("listener_manager.workers_started: 1\n")
          .contains("cluster_manager.active_clusters: 1\n")
          .contains("server.state: 0\n")
          .contains("server.concurrency: 1\n")
          .contains("listener_manager.total_listeners_active: 2\n");
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(get(admin, "/stats").body()).contains("tcp.echo.downstream_cx_total: 1\n"));
    }
  }

  @Test
  void answersHttpFromTheConnectionManager() throws Exception {
    try (Server server = TestServers.start(config())) {
      HttpResponse<String> response = get(server.listenerPort("http"), "/anything");
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("hello");
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(get(server.adminPort(), "/stats").body())
              .contains("http.ingress.downstream_rq_total: 1\n"));
    }
  }

  @Test
  void adminShowsClustersListenersConfigAndServerInfo() throws Exception {
    try (Server server = TestServers.start(config())) {
      int admin = server.adminPort();
      String host = "127.0.0.1:" + echo.getLocalPort();

      String clusters = get(admin, "/clusters").body();
      assertThat(clusters).contains("echo::default_priority::max_connections::1024\n")
          .contains("echo::high_priority::max_retries::3\n")
          .contains("echo::added_via_api::false\n")
          .contains("echo::" + host + "::cx_active::0\n")
          .contains("echo::" + host + "::health_flags::healthy\n")
          .contains("echo::" + host + "::weight::1\n")
          .contains("echo::" + host + "::region::\n");

      JsonObject clustersJson = JsonParser.parseString(get(admin, "/clusters?format=json").body())
          .getAsJsonObject();
      JsonObject status = clustersJson.getAsJsonArray("cluster_statuses").get(0).getAsJsonObject();
      assertThat(status.get("name").getAsString()).isEqualTo("echo");
      JsonObject hostStatus = status.getAsJsonArray("host_statuses").get(0).getAsJsonObject();
      assertThat(hostStatus.getAsJsonObject("address").getAsJsonObject("socket_address")
          .get("port_value").getAsInt()).isEqualTo(echo.getLocalPort());
      assertThat(hostStatus.getAsJsonObject("health_status").get("eds_health_status").getAsString())
          .isEqualTo("HEALTHY");

      int tcpPort = server.listenerPort("tcp");
      assertThat(get(admin, "/listeners").body()).contains("tcp::127.0.0.1:" + tcpPort + "\n")
          .contains("http::127.0.0.1:" + server.listenerPort("http") + "\n");
      JsonObject listeners = JsonParser.parseString(get(admin, "/listeners?format=json").body())
          .getAsJsonObject();
      assertThat(listeners.getAsJsonArray("listener_statuses").toString())
          .contains("\"name\":\"tcp\"").contains("\"port_value\":" + tcpPort);

      String dump = get(admin, "/config_dump").body();
      assertThat(dump).contains("type.googleapis.com/envoy.admin.v3.BootstrapConfigDump")
          .contains("type.googleapis.com/envoy.admin.v3.ClustersConfigDump")
          .contains("type.googleapis.com/envoy.admin.v3.ListenersConfigDump")
          .contains("type.googleapis.com/envoy.admin.v3.RoutesConfigDump")
          .contains("type.googleapis.com/envoy.admin.v3.SecretsConfigDump");
      JsonObject listenersDump = JsonParser.parseString(
          get(admin, "/config_dump?resource=static_listeners&name_regex=tcp").body()).getAsJsonObject();
      assertThat(listenersDump.getAsJsonArray("configs")).hasSize(1);
      assertThat(listenersDump.toString()).contains("\"name\":\"tcp\"").contains("tcp_proxy");
      assertThat(get(admin, "/config_dump?resource=static_clusters").body()).contains("\"name\": \"echo\"");
      assertThat(get(admin, "/config_dump?resource=static_route_configs").body()).contains("\"name\": \"local\"");

      JsonObject info = JsonParser.parseString(get(admin, "/server_info").body()).getAsJsonObject();
      assertThat(info.get("state").getAsString()).isEqualTo("LIVE");
      assertThat(info.getAsJsonObject("command_line_options").get("concurrency").getAsInt()).isEqualTo(1);
      assertThat(info.getAsJsonObject("command_line_options").get("drain_time").getAsString()).isEqualTo("2s");

      JsonObject runtime = JsonParser.parseString(get(admin, "/runtime").body()).getAsJsonObject();
      assertThat(runtime.getAsJsonObject("entries").getAsJsonObject("a.b").get("final_value").getAsString())
          .isEqualTo("1");
      assertThat(runtime.getAsJsonObject("entries").getAsJsonObject("flag").get("final_value").getAsString())
          .isEqualTo("true");
      assertThat(runtime.getAsJsonArray("layers").toString()).isEqualTo("[\"static\",\"admin\"]");

      assertThat(post(admin, "/reopen_logs").statusCode()).isEqualTo(200);
      assertThat(post(admin, "/logging?level=info").body()).contains("upstream: info");
    }
  }

  @Test
  void adminAnswersNotReadyWhileClustersWarm() throws Exception {
    // An EDS cluster without a management server never warms: the server stays INITIALIZING.
    String yaml = """
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters: [{name: eds, type: EDS, eds_cluster_config: {eds_config: {ads: {}}}}]
        """;
    try (Server server = new Server(TestServers.options(), TestServers.bootstrap(yaml)).start()) {
      HttpResponse<String> ready = get(server.adminPort(), "/ready");
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body()).isEqualTo("INITIALIZING\n");
      assertThat(get(server.adminPort(), "/stats").body()).contains("server.state: 3\n")
          .contains("listener_manager.workers_started: 0\n")
          .contains("cluster_manager.warming_clusters: 1\n");
      assertThat(server.live()).isNotDone();
    }
  }

  @Test
  void startUpFailuresNameTheFieldAndStopEverything() throws Exception {
    String badStats = "stats_config: {stats_tags: [{tag_name: x, regex: \"(\"}]}\n";
    Server broken = new Server(TestServers.options(), TestServers.bootstrap(badStats));
    assertThatThrownBy(broken::start).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("stats_config.stats_tags[0].regex: ");
    assertThat(broken.exitCode()).isCompletedWithValue(1);

    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String yaml = """
          static_resources:
            clusters: [{name: c, type: STATIC}]
            listeners:
            - name: l
              address: {socket_address: {address: 127.0.0.1, port_value: %d}}
              filter_chains:
              - filters:
                - name: envoy.filters.network.tcp_proxy
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                    stat_prefix: t
                    cluster: c
          """.formatted(taken.getLocalPort());
      Server server = new Server(TestServers.options(), TestServers.bootstrap(yaml));
      assertThat(server.run()).isEqualTo(1);
      assertThat(server.live()).isCompletedExceptionally();
      assertThatThrownBy(() -> server.awaitLive(Duration.ofSeconds(1)))
          .hasMessageContaining("static_resources.listeners[0].address: cannot bind");
    }
  }

  @Test
  void healthCheckFailReportsDraining() throws Exception {
    try (Server server = TestServers.start(config())) {
      int admin = server.adminPort();
      assertThat(post(admin, "/healthcheck/fail").statusCode()).isEqualTo(200);
      assertThat(server.healthCheckFlag().failed()).isTrue();
      HttpResponse<String> ready = get(admin, "/ready");
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body()).isEqualTo("DRAINING\n");
      post(admin, "/healthcheck/ok");
      assertThat(get(admin, "/ready").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void quitQuitQuitDrainsAndExitsZero() throws Exception {
    Server server = new Server(TestServers.options(1, Duration.ofSeconds(3)),
        TestServers.bootstrap(config()));
    CompletableFuture<Integer> run = CompletableFuture.supplyAsync(server::run);
    await().atMost(TestServers.START_TIMEOUT).until(() -> server.live().isDone());
    int admin = server.adminPort();
    // An open proxied connection holds the drain until the drain time ends.
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.listenerPort("tcp"))) {
      s.getOutputStream().write('x');
      assertThat(s.getInputStream().read()).isEqualTo('x');
      long start = System.nanoTime();
      assertThat(post(admin, "/quitquitquit").body()).isEqualTo("OK\n");
      await().atMost(Duration.ofSeconds(2)).until(() -> server.state() == ServerState.DRAINING);
      assertThat(run.get(10, TimeUnit.SECONDS)).isZero();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
      // The drain time ended: the proxy closed the connection.
      s.setSoTimeout(5000);
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }

  @Test
  void drainEndsEarlyWhenNoConnectionRemains() throws Exception {
    Server server = new Server(TestServers.options(1, Duration.ofSeconds(60)),
        TestServers.bootstrap(config()));
    CompletableFuture<Integer> run = CompletableFuture.supplyAsync(server::run);
    await().atMost(TestServers.START_TIMEOUT).until(() -> server.live().isDone());
    post(server.adminPort(), "/quitquitquit");
    // Nothing is connected: no need to wait the 60 s drain time.
    assertThat(run.get(10, TimeUnit.SECONDS)).isZero();
  }

  @Test
  void drainListenersInboundOnlyKeepsOutboundListening() throws Exception {
    try (Server server = TestServers.start(config())) {
      int httpPort = server.listenerPort("http");
      int tcpPort = server.listenerPort("tcp");
      assertThat(post(server.adminPort(), "/drain_listeners?inboundonly&graceful").statusCode())
          .isEqualTo(200);
      // Envoy's graceful drain: the inbound listener still accepts during the drain time (its
      // connections are closed as they finish), and stops accepting when the drain time is over.
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tcpPort)) {
        assertThat(s.isConnected()).isTrue();
      }
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), tcpPort).close())
              .isInstanceOf(IOException.class));
      assertThat(get(httpPort, "/").body()).isEqualTo("hello");
      assertThat(server.state()).isEqualTo(ServerState.LIVE);
    }
  }
}
