package dev.sluice.extensions.filters.network.http_connection_manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import org.junit.jupiter.api.Test;

class ListenerConnectionManagerTest {
  private static Filter hcm(String statPrefix) {
    return Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
        .setTypedConfig(Any.pack(HttpConnectionManager.newBuilder().setStatPrefix(statPrefix).build())).build();
  }

  @Test
  void connectionManagersOfEveryChainThenTheDefaultOneWithTheirPaths() {
    Listener l = Listener.newBuilder()
        .addFilterChains(FilterChain.newBuilder().addFilters(hcm("a")))
        .addFilterChains(FilterChain.newBuilder()
            .addFilters(Filter.newBuilder().setName("tcp").setTypedConfig(Any.pack(TcpProxy.getDefaultInstance())))
            .addFilters(hcm("b")))
        .setDefaultFilterChain(FilterChain.newBuilder().addFilters(hcm("c")))
        .build();
    assertThat(ListenerConnectionManager.of(l)).extracting(ListenerConnectionManager::path, m -> m.config().getStatPrefix())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("filter_chains[0].filters[0].typed_config", "a"),
            org.assertj.core.groups.Tuple.tuple("filter_chains[1].filters[1].typed_config", "b"),
            org.assertj.core.groups.Tuple.tuple("default_filter_chain.filters[0].typed_config", "c"));
  }

  @Test
  void oneThatDoesNotDecodeIsAnErrorNamingItOrLeftOut() {
    Filter broken = Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
        .setTypedConfig(Any.newBuilder().setTypeUrl(Any.pack(HttpConnectionManager.getDefaultInstance()).getTypeUrl())
            .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xff})))
        .build();
    Listener l = Listener.newBuilder().addFilterChains(FilterChain.newBuilder().addFilters(broken).addFilters(hcm("ok"))).build();
    assertThatThrownBy(() -> ListenerConnectionManager.of(l)).isInstanceOfSatisfying(ConfigException.class,
        e -> assertThat(e.fieldPath()).isEqualTo("filter_chains[0].filters[0].typed_config"));
    assertThat(ListenerConnectionManager.decodable(l)).extracting(m -> m.config().getStatPrefix()).containsExactly("ok");
  }
}
