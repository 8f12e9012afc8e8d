package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.udpa.udpa.type.v1.TypedStruct;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.network.NetworkFilterFactory;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServiceLoaderExtensionRegistryTest {
  private static final String FILE_URL =
      "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";
  private final ServiceLoaderExtensionRegistry registry = ServiceLoaderExtensionRegistry.installed(true);

  @Test
  void loadsFactoriesThroughServiceLoader() {
    assertThat(registry.factories()).hasAtLeastOneElementOfType(TestExtensionFactory.FileLike.class)
        .hasAtLeastOneElementOfType(TestExtensionFactory.IstioStats.class);
  }

  @Test
  void findsByTypeUrlWithinTheKind() {
    Any config = Any.pack(FileAccessLog.newBuilder().setPath("/dev/stdout").build());
    TestExtensionFactory<?> f = registry.find(TestExtensionFactory.class, config, "whatever");
    assertThat(f).isInstanceOf(TestExtensionFactory.FileLike.class);
    assertThat(registry.find(NetworkFilterFactory.class, config, "test.file_like")).isNull();
  }

  @Test
  void typeWinsOverNameAndNameOnlyServesEmptyTypedConfig() {
    Any other = Any.pack(Struct.getDefaultInstance());
    assertThat(registry.find(TestExtensionFactory.class, other, "test.file_like")).isNull();
    assertThat(registry.find(TestExtensionFactory.class, Any.getDefaultInstance(), "test.file_like_alias"))
        .isInstanceOf(TestExtensionFactory.FileLike.class);
    assertThat(registry.find(TestExtensionFactory.class, Any.getDefaultInstance(), "nope")).isNull();
  }

  @Test
  void unpacksPackedConfig() {
    FileAccessLog log = FileAccessLog.newBuilder().setPath("/tmp/x").build();
    TestExtensionFactory.FileLike f = new TestExtensionFactory.FileLike();
    assertThat(registry.unpack(f, Any.pack(log), "typed_config")).isEqualTo(log);
  }

  @Test
  void unwrapsUdpaAndXdsTypedStruct() {
    Struct value = Struct.newBuilder()
        .putFields("path", Value.newBuilder().setStringValue("/dev/stdout").build()).build();
    Any udpa = Any.pack(TypedStruct.newBuilder().setTypeUrl(FILE_URL).setValue(value).build());
    Any xds = Any.pack(com.github.xds.type.v3.TypedStruct.newBuilder()
        .setTypeUrl(FILE_URL).setValue(value).build());
    for (Any any : List.of(udpa, xds)) {
      TestExtensionFactory<?> f = registry.find(TestExtensionFactory.class, any, "");
      assertThat(f).isInstanceOf(TestExtensionFactory.FileLike.class);
      assertThat(registry.unpack((TestExtensionFactory.FileLike) f, any, "typed_config").getPath())
          .isEqualTo("/dev/stdout");
    }
  }

  @Test
  void typedStructUnknownFieldIsRejectedWithPathWhenAsked() {
    Struct value = Struct.newBuilder()
        .putFields("bogus", Value.newBuilder().setBoolValue(true).build()).build();
    Any any = Any.pack(TypedStruct.newBuilder().setTypeUrl(FILE_URL).setValue(value).build());
    TestExtensionFactory.FileLike f = new TestExtensionFactory.FileLike();
    assertThatThrownBy(() -> registry.unpack(f, any, "access_log[0].typed_config"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("access_log[0].typed_config.value.bogus: unknown field");
    assertThat(ServiceLoaderExtensionRegistry.installed(false).unpack(f, any, "x").getPath()).isEmpty();
  }

  @Test
  void badBytesAndWrongTypeAreConfigErrors() {
    TestExtensionFactory.FileLike f = new TestExtensionFactory.FileLike();
    Any garbage = Any.newBuilder().setTypeUrl(FILE_URL)
        .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff, 0x01})).build();
    assertThatThrownBy(() -> registry.unpack(f, garbage, "typed_config"))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("typed_config: cannot parse");
    assertThatThrownBy(() -> registry.unpack(f, Any.pack(Struct.getDefaultInstance()), "tc"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("is not the config type of test.file_like");
  }

  @Test
  void istioTypeCarriedAsStructIsFoundAndUnpacked() {
    Struct payload = Struct.newBuilder()
        .putFields("disable_host_header_fallback", Value.newBuilder().setBoolValue(true).build()).build();
    Any any = Any.newBuilder().setTypeUrl("type.googleapis.com/stats.PluginConfig")
        .setValue(payload.toByteString()).build();
    TestExtensionFactory<?> f = registry.find(TestExtensionFactory.class, any, "istio.stats");
    assertThat(f).isInstanceOf(TestExtensionFactory.IstioStats.class);
    assertThat(registry.unpack((TestExtensionFactory.IstioStats) f, any, "tc")).isEqualTo(payload);
  }

  @Test
  void duplicateRegistrationInOneKindFails() {
    var twice = new ServiceLoaderExtensionRegistry(
        List.of(new TestExtensionFactory.FileLike(), new TestExtensionFactory.FileLike()), false);
    assertThatThrownBy(() -> twice.find(TestExtensionFactory.class, Any.getDefaultInstance(), "x"))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("two TestExtensionFactory");
  }
}
