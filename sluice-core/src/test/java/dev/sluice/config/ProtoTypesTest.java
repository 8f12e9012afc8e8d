package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import org.junit.jupiter.api.Test;

class ProtoTypesTest {
  @Test
  void resolvesEnvoyXdsAndWellKnownTypes() {
    ProtoTypes types = ProtoTypes.get();
    for (String url : List.of(
        "type.googleapis.com/envoy.config.bootstrap.v3.Bootstrap",
        "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
        "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
        "type.googleapis.com/udpa.type.v1.TypedStruct",
        "type.googleapis.com/xds.type.v3.TypedStruct",
        "type.googleapis.com/google.protobuf.Struct",
        "type.googleapis.com/envoy.config.route.v3.RouteAction.RequestMirrorPolicy")) {
      assertThat(types.find(url)).as(url).isNotNull();
    }
    assertThat(types.find("type.googleapis.com/stats.PluginConfig")).isNull();
    assertThat(types.typeRegistry().find("envoy.config.cluster.v3.Cluster")).isNotNull();
  }

  @Test
  void coversEveryProtoFileOfTheApiJarThatDeclaresConfig() throws Exception {
    Path jar = Path.of(Bootstrap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> missing;
    try (JarFile jf = new JarFile(jar.toFile())) {
      missing = Collections.list(jf.entries()).stream().map(e -> e.getName())
          .filter(n -> n.endsWith(".proto"))
          .filter(n -> !ProtoTypes.get().fileNames().contains(n))
          .toList();
    } catch (IOException e) {
      throw e;
    }
    // Only annotation-only files and a CEL conformance test file have no holder class we scan;
    // none of them is a config or resource type.
    assertThat(missing).allMatch(n -> n.startsWith("xds/annotations/") || n.startsWith("cel/expr/conformance/"));
  }

  /**
   * On-demand loading (proto package to Java package, then that package's holder classes) finds
   * what loading everything finds: for each file, a fresh instance (a new process) resolves the
   * file's messages.
   */
  @Test
  void onDemandLookupFindsEveryFilesMessagesInAFreshInstance() {
    List<String> missing = new ArrayList<>();
    for (FileDescriptor file : ProtoTypes.get().allFiles()) {
      if (file.getName().startsWith("cel/expr/conformance/")) {
        continue; // CEL's conformance-test protos: not config, and their Java package breaks the pattern
      }
      ProtoTypes fresh = new ProtoTypes();
      for (Descriptor message : file.getMessageTypes()) {
        if (fresh.find(ProtoTypes.typeUrl(message)) != message) {
          missing.add(message.getFullName());
        }
      }
    }
    assertThat(missing).isEmpty();
    assertThat(new ProtoTypes().find("type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange")).isNull();
  }
}
