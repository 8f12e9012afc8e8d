package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Options.DrainStrategy;
import dev.sluice.server.Options.IpVersion;
import dev.sluice.server.Options.Mode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptionsParserTest {
  private static Options ok(String... args) {
    OptionsParser.Outcome o = OptionsParser.parse(args);
    assertThat(o).isInstanceOf(OptionsParser.Parsed.class);
    return ((OptionsParser.Parsed) o).options();
  }

  private static String invalid(String... args) {
    OptionsParser.Outcome o = OptionsParser.parse(args);
    assertThat(o).isInstanceOf(OptionsParser.Invalid.class);
    String message = ((OptionsParser.Invalid) o).message();
    assertThat(message).doesNotContain("\n");
    return message;
  }

  @Test
  void defaultsAreEnvoys() {
    Options o = ok("-c", "b.json");
    assertThat(o.configPath()).isEqualTo(Path.of("b.json"));
    assertThat(o.concurrency()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(o.logLevel()).isEqualTo("info");
    assertThat(o.drainTime()).isEqualTo(Duration.ofSeconds(600));
    assertThat(o.drainStrategy()).isEqualTo(DrainStrategy.GRADUAL);
    assertThat(o.parentShutdownTime()).isEqualTo(Duration.ofSeconds(900));
    assertThat(o.localAddressIpVersion()).isEqualTo(IpVersion.V4);
    assertThat(o.fileFlushInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.mode()).isEqualTo(Mode.SERVE);
    assertThat(o.ignoredFlags()).isEmpty();
    assertThat(o).isEqualTo(Options.defaults(Path.of("b.json")));
  }

  @Test
  void pilotAgentCommandLine() {
    Options o = ok("-c", "./etc/istio/proxy/envoy-rev.json", "--drain-time-s", "45",
        "--drain-strategy", "immediate", "--local-address-ip-version", "v4",
        "--file-flush-interval-msec", "1000", "--disable-hot-restart",
        "--allow-unknown-static-fields", "-l", "warning", "--component-log-level", "misc:error",
        "--concurrency", "2");
    assertThat(o.drainTime()).isEqualTo(Duration.ofSeconds(45));
    assertThat(o.drainStrategy()).isEqualTo(DrainStrategy.IMMEDIATE);
    assertThat(o.fileFlushInterval()).isEqualTo(Duration.ofMillis(1000));
    assertThat(o.allowUnknownStaticFields()).isTrue();
    assertThat(o.logLevel()).isEqualTo("warning");
    assertThat(o.componentLogLevels()).isEqualTo(Map.of("misc", "error"));
    assertThat(o.concurrency()).isEqualTo(2);
    assertThat(o.ignoredFlags()).containsExactly("--disable-hot-restart");
  }

  @Test
  void everyOtherFlag() {
    Options o = ok("--config-path", "x.yaml", "--config-yaml", "node: {id: a}", "--log-level", "warn",
        "--component-log-level", "upstream:debug,config:trace", "--log-format", "%v",
        "--log-path", "/tmp/s.log", "--parent-shutdown-time-s", "5", "--local-address-ip-version",
        "v6", "--reject-unknown-dynamic-fields", "--service-node", "n", "--service-cluster", "c",
        "--service-zone", "z", "--base-id", "7", "--mode", "validate", "--concurrency", "0");
    assertThat(o.configYaml()).isEqualTo("node: {id: a}");
    assertThat(o.logLevel()).isEqualTo("warn");
    assertThat(o.componentLogLevels()).containsExactly(Map.entry("upstream", "debug"), Map.entry("config", "trace"));
    assertThat(o.logFormat()).isEqualTo("%v");
    assertThat(o.logPath()).isEqualTo(Path.of("/tmp/s.log"));
    assertThat(o.parentShutdownTime()).isEqualTo(Duration.ofSeconds(5));
    assertThat(o.localAddressIpVersion()).isEqualTo(IpVersion.V6);
    assertThat(o.rejectUnknownDynamicFields()).isTrue();
    assertThat(o.serviceNode()).isEqualTo("n");
    assertThat(o.serviceCluster()).isEqualTo("c");
    assertThat(o.serviceZone()).isEqualTo("z");
    assertThat(o.baseId()).isEqualTo(7);
    assertThat(o.mode()).isEqualTo(Mode.VALIDATE);
    assertThat(o.concurrency()).as("Envoy: 0 means 1").isEqualTo(1);
    assertThat(ok("-c", "x", "--allow-unknown-fields").allowUnknownStaticFields()).isTrue();
  }

  @Test
  void ignoredEnvoyFlagsAreRecordedAsGiven() {
    Options o = ok("-c", "b", "--disable-hot-restart", "--restart-epoch", "0", "--hot-restart-version",
        "--use-dynamic-base-id", "--base-id-path", "/tmp/id", "--cpuset-threads",
        "--enable-mutex-tracing", "--disable-extensions", "a,b", "--log-format-escaped",
        "--enable-fine-grain-logging", "--ignore-unknown-dynamic-fields", "--bootstrap-version", "3",
        "--socket-path", "/tmp/s", "--socket-mode", "644", "--enable-core-dump", "--stats-tag",
        "k:v", "--max-obj-name-len", "60", "--max-stats", "100");
    assertThat(o.ignoredFlags()).containsExactlyInAnyOrder("--disable-hot-restart",
        "--restart-epoch 0", "--hot-restart-version", "--use-dynamic-base-id",
        "--base-id-path /tmp/id", "--cpuset-threads", "--enable-mutex-tracing",
        "--disable-extensions a,b", "--log-format-escaped", "--enable-fine-grain-logging",
        "--ignore-unknown-dynamic-fields", "--bootstrap-version 3", "--socket-path /tmp/s",
        "--socket-mode 644", "--enable-core-dump", "--stats-tag k:v", "--max-obj-name-len 60",
        "--max-stats 100");
  }

  @Test
  void badInputIsOneLineNamingTheFlag() {
    assertThat(invalid("--frobnicate")).contains("--frobnicate");
    assertThat(invalid("--concurrency", "many")).contains("--concurrency").contains("many");
    assertThat(invalid("--concurrency", "-2")).contains("--concurrency");
    assertThat(invalid("-l", "loud")).contains("--log-level").contains("'loud'");
    assertThat(invalid("--component-log-level", "nosuch:info")).contains("invalid component specified 'nosuch'");
    assertThat(invalid("--component-log-level", "upstream")).contains("not correctly specified 'upstream'");
    assertThat(invalid("--component-log-level", "upstream:loud")).contains("'loud'");
    assertThat(invalid("--drain-strategy", "slow")).contains("--drain-strategy").contains("'slow'");
    assertThat(invalid("--local-address-ip-version", "v5")).contains("--local-address-ip-version");
    assertThat(invalid("--mode", "init_only")).contains("--mode");
    assertThat(invalid("--mode", "fly")).contains("--mode").contains("'fly'");
    assertThat(invalid("--drain-time-s", "x")).contains("--drain-time-s");
    assertThat(invalid("-c")).contains("-c");
  }

  @Test
  void helpAndVersionPrint() {
    assertThat(OptionsParser.parse("--version")).isEqualTo(
        new OptionsParser.Printed(OptionsParser.versionLine() + "\n"));
    assertThat(OptionsParser.versionLine()).matches("sluice  version: [^/]+/[^/]+/Clean/RELEASE/BoringSSL");
    OptionsParser.Outcome help = OptionsParser.parse("--help");
    assertThat(help).isInstanceOf(OptionsParser.Printed.class);
    assertThat(((OptionsParser.Printed) help).text()).contains("--config-path", "--drain-strategy")
        .doesNotContain("--restart-epoch");
  }
}
