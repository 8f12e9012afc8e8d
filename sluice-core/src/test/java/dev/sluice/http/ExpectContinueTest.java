package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import io.netty.handler.codec.http.FullHttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Expect: 100-continue} as Envoy without {@code proxy_100_continue}: the proxy answers the
 * 100 itself as soon as the request headers arrive and removes the header, so the client sends its
 * body at once (curl otherwise waits a second for a 100) and the upstream never sees the
 * expectation. curl over HTTP/1.1 and h2c.
 */
class ExpectContinueTest {
  @TempDir Path dir;
  private TestBackend backend;
  private Server server;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "curl is not installed");
    backend = new TestBackend("echo");
    server = TestServers.start("""
        static_resources:
          listeners:
          - name: http
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: ingress
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes: [{match: {prefix: /}, route: {cluster: backend}}]
          clusters:
          - name: backend
            type: STATIC
            load_assignment:
              cluster_name: backend
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
        """.formatted(backend.port()));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"--http1.1", "--http2-prior-knowledge"})
  void theProxyAnswersTheContinueAndTheUpstreamNeverSeesTheExpectation(String protocol) throws Exception {
    Path body = dir.resolve("body");
    Files.write(body, new byte[64 * 1024]);
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-v", protocol, "--max-time", "20",
        "-H", "Expect: 100-continue", "--data-binary", "@" + body, "-o", "/dev/null", "-w", "%{http_code}",
        "http://127.0.0.1:" + server.listenerPort("http") + "/upload"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    // curl -v prints each response line it receives: the interim 100, then the final status.
    assertThat(out).containsPattern("< HTTP/(1\\.1|2) 100").endsWith("200");
    FullHttpRequest seen = backend.seen.poll();
    assertThat(seen).isNotNull();
    assertThat(seen.headers().contains("expect")).isFalse();
    assertThat(seen.content().readableBytes()).isEqualTo(64 * 1024);
    seen.release();
  }
}
