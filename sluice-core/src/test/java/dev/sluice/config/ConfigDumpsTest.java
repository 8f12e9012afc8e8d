package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The Istio config dumps (the contract of later work) parse with the registry, Istio types kept. */
class ConfigDumpsTest {
  private static final Path DUMPS = BootstrapLoaderTest.ISTIO.resolve("config-dumps");

  private static ConfigDump parse(Path file) throws IOException {
    ProtoJson json = new ProtoJson(ProtoTypes.get(), false);
    return json.parse(ConfigText.read(Files.readString(file), false), ConfigDump.getDefaultInstance());
  }

  @Test
  void everyDumpParsesAsAdminConfigDumps() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(DUMPS)) {
      files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    assertThat(files).hasSize(5);
    for (Path file : files) {
      ConfigDump dump = parse(file);
      assertThat(dump.getConfigsList()).as(file.toString()).isNotEmpty();
      for (Any config : dump.getConfigsList()) {
        assertThat(config.getTypeUrl()).startsWith("type.googleapis.com/envoy.admin.v3.")
            .endsWith("ConfigDump");
        assertThat(ProtoTypes.get().find(config.getTypeUrl())).isNotNull();
      }
    }
  }

  @Test
  void sidecarListenersKeepIstioFilterTypes() throws IOException {
    ConfigDump dump = parse(DUMPS.resolve("sidecar-lds-2023-06_istioctl-authz-configdump.json"));
    ListenersConfigDump listeners = dump.getConfigs(0).unpack(ListenersConfigDump.class);
    assertThat(listeners.getStaticListenersCount() + listeners.getDynamicListenersCount()).isPositive();
    String printed = ProtoTypes.get().printer().print(dump.getConfigs(0).unpack(ListenersConfigDump.class)
        .toBuilder().clearDynamicListeners().clearStaticListeners().build());
    assertThat(printed).contains("version_info");
    // The Istio-only types survive as Anys with their own URL somewhere in the listener bytes.
    assertThat(dump.toByteString().toStringUtf8())
        .contains("type.googleapis.com/stats.PluginConfig")
        .contains("type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig")
        .contains("type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange")
        .doesNotContain("@sluice.opaque_type_url");
  }
}
