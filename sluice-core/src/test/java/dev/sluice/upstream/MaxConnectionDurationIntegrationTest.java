package dev.sluice.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.ScriptedUpstream;
import dev.sluice.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code common_http_protocol_options.max_connection_duration} on upstream connections through a
 * full proxy: a connection that reaches the age finishes the request in flight (HTTP/1.1) or its
 * streams (HTTP/2, after a GOAWAY), then closes; an idle one closes at once; the next request gets
 * a new connection; {@code upstream_cx_max_duration_reached} counts each.
 */
class MaxConnectionDurationIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  private Server start(String protocol, int port) {
    Server server = TestServers.start("""
        static_resources:
          clusters:
          - name: c
            type: STATIC
            connect_timeout: 5s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                common_http_protocol_options: {max_connection_duration: 0.3s}
                explicit_http_config: {%s: {}}
            load_assignment:
              cluster_name: c
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
          listeners:
        %s""".formatted(protocol, port, ProxyYaml.listener("l", "c")));
    closing.add(server);
    return server;
  }

  private CompletableFuture<HttpResponse<String>> get(Server server, String path) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("l") + path))
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static long reached(Server server) {
    return server.stats().counter("cluster.c.upstream_cx_max_duration_reached").value();
  }

  private static long active(Server server) {
    return server.stats().gauge("cluster.c.upstream_cx_active").value();
  }

  @Test
  void anHttp1ConnectionFinishesItsResponseThenClosesAndAnIdleOneClosesAtOnce() throws Exception {
    ScriptedUpstream b = ScriptedUpstream.holdingHang("b");
    closing.add(b);
    Server server = start("http_protocol_options", b.port());
    var held = get(server, "/hang");
    await().atMost(WAIT).until(() -> b.held() == 1);
    await().atMost(WAIT).until(() -> reached(server) == 1);
    // The request in flight keeps its connection.
    assertThat(active(server)).isEqualTo(1);
    assertThat(held).isNotDone();
    b.release();
    assertThat(held.join().statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> active(server) == 0);

    // The next request needs a new connection, which idles until it reaches the age.
    assertThat(get(server, "/x").join().statusCode()).isEqualTo(200);
    assertThat(b.connections.get()).isEqualTo(2);
    await().atMost(WAIT).until(() -> reached(server) == 2);
    await().atMost(WAIT).until(() -> active(server) == 0);
  }

  @Test
  void anHttp2ConnectionFinishesItsStreamsThenCloses() throws Exception {
    TestBackend b = new TestBackend("h2");
    closing.add(b);
    Server server = start("http2_protocol_options", b.port());
    var slow = get(server, "/delay/700");
    await().atMost(WAIT).until(() -> reached(server) == 1);
    assertThat(active(server)).isEqualTo(1);
    assertThat(slow.join().statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> active(server) == 0);
    assertThat(get(server, "/x").join().statusCode()).isEqualTo(200);
    assertThat(b.connections.get()).isEqualTo(2);
  }
}
