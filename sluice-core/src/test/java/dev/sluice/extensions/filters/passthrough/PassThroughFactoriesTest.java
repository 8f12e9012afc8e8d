package dev.sluice.extensions.filters.passthrough;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import dev.sluice.api.network.NetworkFilterFactory;
import dev.sluice.config.ServiceLoaderExtensionRegistry;
import dev.sluice.extensions.filters.http.istio_alpn.IstioAlpnFactory;
import dev.sluice.extensions.filters.http.wasm.WasmFilterFactory;
import dev.sluice.extensions.filters.network.istio_authn.IstioAuthnFactory;
import dev.sluice.extensions.filters.network.istio_stats.IstioStatsNetworkFilterFactory;
import dev.sluice.extensions.filters.network.metadata_exchange.MetadataExchangeFactory;
import io.envoyproxy.envoy.config.core.v3.AsyncDataSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm;
import io.envoyproxy.envoy.extensions.wasm.v3.PluginConfig;
import io.envoyproxy.envoy.extensions.wasm.v3.VmConfig;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import org.junit.jupiter.api.Test;

class PassThroughFactoriesTest {
  private static final ServiceLoaderExtensionRegistry REGISTRY = ServiceLoaderExtensionRegistry.installed(true);

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static Struct struct(String field, Value value) {
    return Struct.newBuilder().putFields(field, value).build();
  }

  private static Wasm nullVm(String runtime, String plugin) {
    return Wasm.newBuilder().setConfig(PluginConfig.newBuilder().setVmConfig(VmConfig.newBuilder().setRuntime(runtime)
        .setCode(AsyncDataSource.newBuilder().setLocal(DataSource.newBuilder().setInlineString(plugin))))).build();
  }

  @Test
  void istioTypesAreRegisteredPerKind() {
    com.google.protobuf.Any stats = com.google.protobuf.Any.newBuilder().setTypeUrl("type.googleapis.com/stats.PluginConfig").build();
    assertThat(REGISTRY.find(NetworkFilterFactory.class, stats, "istio.stats")).isInstanceOf(IstioStatsNetworkFilterFactory.class);
    assertThat(REGISTRY.find(HttpFilterFactory.class, stats, "istio.stats"))
        .isInstanceOf(dev.sluice.extensions.filters.http.istio_stats.IstioStatsHttpFilterFactory.class);
    com.google.protobuf.Any authn = com.google.protobuf.Any.pack(com.github.udpa.udpa.type.v1.TypedStruct.newBuilder()
        .setTypeUrl("type.googleapis.com/io.istio.network.authn.Config").build());
    assertThat(REGISTRY.find(NetworkFilterFactory.class, authn, "istio_authn")).isInstanceOf(IstioAuthnFactory.class);
  }

  @Test
  void passThroughFiltersContinueEverywhere() {
    HttpFilter f = new IstioAlpnFactory().create(Struct.getDefaultInstance(), "http.x.", null).get();
    DefaultHttp2Headers headers = new DefaultHttp2Headers();
    assertThat(f.decodeHeaders(headers, true)).isEqualTo(FilterStatus.CONTINUE);
    assertThat(f.encodeHeaders(headers, true)).isEqualTo(FilterStatus.CONTINUE);
    assertThat(headers.isEmpty()).isTrue();
  }

  @Test
  void announcesOncePerFilterName() {
    assertThat(PassThrough.announce("test.once", "behaviour", "tests")).isTrue();
    assertThat(PassThrough.announce("test.once", "behaviour", "tests")).isFalse();
  }

  @Test
  void knownFieldsOfOpaqueConfigsAreTypeChecked() {
    assertThatThrownBy(() -> new MetadataExchangeFactory().create(struct("protocol", Value.newBuilder().setBoolValue(true).build()), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("protocol").hasMessageContaining("expected a string");
    Struct badProtocol = struct("alpn_override", Value.newBuilder().setListValue(ListValue.newBuilder()
        .addValues(Value.newBuilder().setStructValue(struct("upstream_protocol", string("HTTP3"))))).build());
    assertThatThrownBy(() -> new IstioAlpnFactory().create(badProtocol, "http.x.", null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("alpn_override[0].upstream_protocol");
    assertThat(new MetadataExchangeFactory().create(struct("protocol", string("istio-peer-exchange")), null))
        .isSameAs(PassThrough.NETWORK_FILTER);
  }

  @Test
  void wasmAcceptsOnlyIstiosBuiltInPlugins() {
    WasmFilterFactory wasm = new WasmFilterFactory();
    assertThat(wasm.create(nullVm("envoy.wasm.runtime.null", "envoy.wasm.metadata_exchange"), "http.x.", null).get())
        .isSameAs(PassThrough.HTTP_FILTER);
    assertThatThrownBy(() -> wasm.create(nullVm("envoy.wasm.runtime.v8", "envoy.wasm.metadata_exchange"), "http.x.", null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("config.vm_config.runtime");
    assertThatThrownBy(() -> wasm.create(nullVm("envoy.wasm.runtime.null", "my.plugin"), "http.x.", null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("unknown built-in plugin 'my.plugin'");
    assertThatThrownBy(() -> wasm.create(Wasm.getDefaultInstance(), "http.x.", null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("config.vm_config");
  }
}
