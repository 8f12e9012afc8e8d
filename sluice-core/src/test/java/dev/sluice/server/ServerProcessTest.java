package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The {@code sluice} process itself: SIGTERM drains and exits 0, as Envoy. */
class ServerProcessTest {
  private static final String CONFIG = """
      admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
      static_resources:
        clusters: [{name: c, type: STATIC}]
        listeners:
        - name: l
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.tcp_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                stat_prefix: t
                cluster: c
      """;

  @Test
  void sigtermDrainsAndExitsZero() throws Exception {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "--config-yaml", CONFIG, "--concurrency", "1", "--drain-time-s", "5"));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      BufferedReader log = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      CompletableFuture<Boolean> ready = CompletableFuture.supplyAsync(() -> log.lines()
          .anyMatch(line -> line.contains("sluice ready in")));
      assertThat(ready.get(60, TimeUnit.SECONDS)).as("the server became ready").isTrue();
      process.destroy(); // SIGTERM
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exited").isTrue();
      assertThat(process.exitValue()).isZero();
    } finally {
      process.destroyForcibly();
    }
  }
}
