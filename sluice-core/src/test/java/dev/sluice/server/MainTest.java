package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.config.ConfigException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Main} in-process: exit code, stdout and stderr. */
class MainTest {
  private static final Path GOLDENS = Path.of("/work/shared/istio/bootstrap");
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @AfterEach
  void restoreLogging() {
    Logging.configure("info", Map.of(), null, null);
  }

  private int run(String... args) {
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void validatesIstioGoldensWithPilotAgentsFlags() {
    // Every pilot-agent flag is accepted and the goldens are valid.
    for (String golden : new String[] {"default_golden.json", "runningsds_golden.json"}) {
      out.reset();
      err.reset();
      int code = run("-c", GOLDENS.resolve(golden).toString(), "--mode", "validate",
          "--drain-time-s", "45", "--drain-strategy", "immediate", "--local-address-ip-version", "v4",
          "--file-flush-interval-msec", "1000", "--disable-hot-restart",
          "--allow-unknown-static-fields", "-l", "warning", "--component-log-level", "misc:error");
      assertThat(code).as(golden + ": " + err()).isZero();
      assertThat(out()).isEqualTo("OK\n");
    }
  }

  @Test
  void validModePrintsOkForAValidConfig() throws Exception {
    Path config = dir.resolve("ok.yaml");
    Files.writeString(config, """
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
        """);
    assertThat(run("-c", config.toString(), "--mode", "validate")).as(err()).isZero();
    assertThat(out()).isEqualTo("OK\n");
  }

  @Test
  void configErrorsAreOneLineAndExitOne() throws Exception {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "static_resources: {clusters: [{name: a, foo: 1}]}\n");
    assertThat(run("-c", bad.toString(), "--mode", "validate")).isEqualTo(1);
    assertThat(err()).isEqualTo(bad + ": static_resources.clusters[0].foo: unknown field in "
        + "envoy.config.cluster.v3.Cluster" + System.lineSeparator());
    err.reset();
    assertThat(run("-c", dir.resolve("missing.json").toString())).isEqualTo(1);
    assertThat(err().strip()).isEqualTo(dir.resolve("missing.json") + ": no such file");
    err.reset();
    assertThat(run("--mode", "validate")).isEqualTo(1);
    assertThat(err().strip()).isEqualTo("At least one of --config-path or --config-yaml should be non-empty");
    err.reset();
    assertThat(run("--bogus")).isEqualTo(1);
    assertThat(err().strip()).contains("--bogus").doesNotContain("\n");
    assertThat(out()).isEmpty();
  }

  @Test
  void logFormatFlagAndBootstrapLogFormatExcludeEachOther() {
    int code = run("-c", GOLDENS.resolve("default_golden.json").toString(), "--mode", "validate",
        "--log-format", "%v");
    assertThat(code).isEqualTo(1);
    assertThat(err()).contains("Only one of ApplicationLogConfig.log_format or CLI option --log-format");
  }

  @Test
  void jsonLogFormatRejectsRawMessageFlags() {
    Struct ok = Struct.newBuilder().putFields("msg", Value.newBuilder().setStringValue("%j").build()).build();
    assertThat(Main.jsonPattern(ok)).isEqualTo("{\"msg\":\"%j\"}");
    Struct bad = Struct.newBuilder().putFields("msg", Value.newBuilder().setStringValue("%v").build()).build();
    Assertions.assertThatThrownBy(() -> Main.jsonPattern(bad)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("Usage of %v is unavailable");
  }

  @Test
  void versionAndHelpExitZero() {
    assertThat(run("--version")).isZero();
    assertThat(out()).startsWith("sluice  version: ");
    out.reset();
    assertThat(run("--help")).isZero();
    assertThat(out()).contains("--config-path");
  }
}
