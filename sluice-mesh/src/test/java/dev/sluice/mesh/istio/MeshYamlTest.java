package dev.sluice.mesh.istio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.mesh.model.MeshResource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshYamlTest {
  static final Path BOOKINFO = Path.of("/work/shared/istio/bookinfo");
  static final Path NETWORKING = BOOKINFO.resolve("networking");
  static final Path PLATFORM = BOOKINFO.resolve("platform/kube/bookinfo.yaml");

  @Test
  void readsEveryDocumentOfBookinfoYamlWithItsSource() {
    List<MeshResource> all = MeshYaml.load(PLATFORM);
    assertThat(all).extracting(MeshResource::kind).containsOnly("Service", "ServiceAccount", "Deployment");
    assertThat(all.stream().filter(r -> r.kind().equals("Deployment")).map(MeshResource::name))
        .containsExactly("details-v1", "ratings-v1", "reviews-v1", "reviews-v2", "reviews-v3", "productpage-v1");
    MeshResource first = all.getFirst();
    assertThat(first.key()).isEqualTo("Service/default/details");
    assertThat(first.source()).isEqualTo(PLATFORM + "#0");
    assertThat(first.labels()).containsEntry("app", "details").containsEntry("service", "details");
    assertThat(all.get(1).source()).isEqualTo(PLATFORM + "#1");
  }

  @Test
  void readsADirectoryInNameOrderSkippingEmptyDocuments() {
    List<MeshResource> all = MeshYaml.load(NETWORKING);
    // destination-rule-all.yaml ends with '---': four rules, no fifth empty resource.
    assertThat(all.stream().filter(r -> r.source().contains("/destination-rule-all.yaml#"))).hasSize(4);
    assertThat(all.getFirst().source()).isEqualTo(NETWORKING.resolve("bookinfo-gateway.yaml") + "#0");
    MeshResource gateway = all.getFirst();
    assertThat(gateway.apiVersion()).isEqualTo("networking.istio.io/v1");
    assertThat(gateway.kind()).isEqualTo("Gateway");
    assertThat(gateway.namespace()).isEqualTo("default");
    assertThat(gateway.spec()).containsEntry("selector", Map.of("istio", "ingressgateway"));
  }

  @Test
  void badYamlNamesTheFileAndDocument() {
    Path file = Path.of("src/test/resources/broken/bad-yaml.yaml");
    assertThatThrownBy(() -> MeshYaml.load(file))
        .isInstanceOf(MeshYamlException.class)
        .hasMessageStartingWith(file + "#1: invalid YAML");
  }

  @Test
  void documentsWithoutKindOrNameAreRefusedByName(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("x.yaml");
    Files.writeString(f, "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n");
    assertThatThrownBy(() -> MeshYaml.load(f)).hasMessage(f + "#1: missing or non-string 'kind'");
    assertThatThrownBy(() -> MeshYaml.parse("- a\n- b\n", "list.yaml"))
        .hasMessage("list.yaml#0: a document must be a mapping with apiVersion, kind, metadata");
    assertThatThrownBy(() -> MeshYaml.parse("apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n", "s.yaml"))
        .hasMessage("s.yaml#0: Service metadata: missing or non-string 'name'");
  }

  @Test
  void namespaceFromMetadata() {
    List<MeshResource> r = MeshYaml.parse("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: shop}\nspec: {}\n", "s.yaml");
    assertThat(r.getFirst().key()).isEqualTo("Service/shop/a");
  }
}
