package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootstrapLoaderTest {
  static final Path ISTIO = Path.of("/work/shared/istio");
  private final BootstrapLoader loader = new BootstrapLoader(ProtoTypes.get());
  @TempDir Path dir;

  private Bootstrap load(Path file, String yaml, boolean allowUnknown) {
    return loader.load(file, yaml, allowUnknown, BootstrapLoader.NodeOverrides.NONE);
  }

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    return p;
  }

  @Test
  void loadsJsonAndYamlFiles() throws IOException {
    Path json = write("b.json", """
        {"node": {"id": "n1", "cluster": "c1"},
         "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 15000}}}}""");
    Path yaml = write("b.yaml", """
        node: {id: n1, cluster: c1}
        # comments are YAML
        admin:
          address:
            socket_address: {address: 127.0.0.1, port_value: 15000}
        """);
    Bootstrap fromJson = load(json, null, false);
    assertThat(fromJson.getNode().getId()).isEqualTo("n1");
    assertThat(fromJson.getAdmin().getAddress().getSocketAddress().getPortValue()).isEqualTo(15000);
    assertThat(load(yaml, null, false)).isEqualTo(fromJson);
    // content that is not JSON is read as YAML whatever the name
    assertThat(load(write("b.json2", Files.readString(yaml)), null, false)).isEqualTo(fromJson);
  }

  @Test
  void yamlKeepsDateLikeScalarsAsStrings() throws IOException {
    Path yaml = write("d.yaml", "node: {id: 2024-01-02}\n");
    assertThat(load(yaml, null, false).getNode().getId()).isEqualTo("2024-01-02");
  }

  @Test
  void configYamlMergesOverTheFileWithProtoMergeSemantics() throws IOException {
    Path file = write("b.yaml", """
        node: {id: file-id, cluster: file-cluster}
        static_resources:
          clusters: [{name: a}]
        """);
    Bootstrap b = load(file, "node: {id: flag-id}\nstatic_resources: {clusters: [{name: b}]}", false);
    assertThat(b.getNode().getId()).isEqualTo("flag-id");
    assertThat(b.getNode().getCluster()).isEqualTo("file-cluster");
    assertThat(b.getStaticResources().getClustersList()).extracting("name").containsExactly("a", "b");
    assertThat(loader.load(null, "node: {id: only}", false, BootstrapLoader.NodeOverrides.NONE)
        .getNode().getId()).isEqualTo("only");
  }

  @Test
  void serviceFlagsOverrideTheNode() throws IOException {
    Path file = write("b.yaml", "node: {id: a, cluster: b, locality: {region: r}}\n");
    Bootstrap b = loader.load(file, null, false, new BootstrapLoader.NodeOverrides("n", "c", "z"));
    assertThat(b.getNode().getId()).isEqualTo("n");
    assertThat(b.getNode().getCluster()).isEqualTo("c");
    assertThat(b.getNode().getLocality().getZone()).isEqualTo("z");
    assertThat(b.getNode().getLocality().getRegion()).isEqualTo("r");
  }

  @Test
  void unknownFieldNamesItsPathAndFile() throws IOException {
    Path file = write("b.yaml", """
        static_resources:
          clusters:
          - name: ok
          - name: bad
            connectTimeout: 1s
            foo: 1
        """);
    assertThatThrownBy(() -> load(file, null, false))
        .isInstanceOf(ConfigSourceException.class)
        .hasMessage(file + ": static_resources.clusters[1].foo: unknown field in envoy.config.cluster.v3.Cluster")
        .satisfies(e -> assertThat(((ConfigException) e).fieldPath()).isEqualTo("static_resources.clusters[1].foo"));
    assertThat(load(file, null, true).getStaticResources().getClusters(1).getName()).isEqualTo("bad");
  }

  @Test
  void unknownFieldInsideTypedConfigAndMapNamesItsPath() {
    String yaml = """
        static_resources:
          listeners:
          - name: l
            filter_chains:
            - filters:
              - name: hcm
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: x
                  nope: true
        """;
    assertThatThrownBy(() -> loader.load(null, yaml, false, BootstrapLoader.NodeOverrides.NONE))
        .hasMessage("--config-yaml: static_resources.listeners[0].filter_chains[0].filters[0]"
            + ".typed_config.nope: unknown field in "
            + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
  }

  @Test
  void badValueNamesItsPath() {
    String yaml = "static_resources: {clusters: [{name: a}, {name: b, connect_timeout: soon}]}";
    assertThatThrownBy(() -> loader.load(null, yaml, false, BootstrapLoader.NodeOverrides.NONE))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("--config-yaml: static_resources.clusters[1].connect_timeout: ");
  }

  @Test
  void missingFileAndNoConfigAreOneLineErrors() {
    Path missing = dir.resolve("nope.json");
    assertThatThrownBy(() -> load(missing, null, false)).hasMessage(missing + ": no such file");
    assertThatThrownBy(() -> loader.load(null, null, false, BootstrapLoader.NodeOverrides.NONE))
        .hasMessage("At least one of --config-path or --config-yaml should be non-empty");
  }

  @Test
  void anyOfUnknownTypeKeepsItsTypeUrlAndJsonPayload() throws Exception {
    String yaml = """
        static_resources:
          listeners:
          - name: l
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: x
                  http_filters:
                  - name: istio.stats
                    typed_config:
                      "@type": type.googleapis.com/stats.PluginConfig
                      disable_host_header_fallback: true
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        """;
    Bootstrap b = loader.load(null, yaml, false, BootstrapLoader.NodeOverrides.NONE);
    Listener l = b.getStaticResources().getListeners(0);
    HttpConnectionManager hcm = l.getFilterChains(0).getFilters(0).getTypedConfig()
        .unpack(HttpConnectionManager.class);
    Any stats = hcm.getHttpFilters(0).getTypedConfig();
    assertThat(stats.getTypeUrl()).isEqualTo("type.googleapis.com/stats.PluginConfig");
    Struct payload = ProtoTypes.opaquePayload(stats);
    assertThat(payload.getFieldsMap()).containsOnlyKeys("disable_host_header_fallback");
    assertThat(payload.getFieldsOrThrow("disable_host_header_fallback").getBoolValue()).isTrue();
    assertThat(hcm.getHttpFilters(1).getTypedConfig().getTypeUrl()).endsWith("router.v3.Router");
  }

  @Test
  void istioGoldenBootstrapsLoad() {
    for (String name : new String[] {"default_golden.json", "runningsds_golden.json"}) {
      Path file = ISTIO.resolve("bootstrap").resolve(name);
      // Istio always passes --allow-unknown-static-fields; these goldens also load without it.
      Bootstrap strict = load(file, null, false);
      assertThat(load(file, null, true)).isEqualTo(strict);
      assertThat(strict.getNode().getId()).isEqualTo("sidecar~1.2.3.4~foo~bar");
      assertThat(strict.getStaticResources().getClustersCount()).isPositive();
      assertThat(strict.getBootstrapExtensions(0).getTypedConfig().getTypeUrl())
          .isEqualTo("type.googleapis.com/udpa.type.v1.TypedStruct");
    }
  }
}
