package dev.sluice.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class FilterChainMatcherTest {
  private static final Path ISTIO_LDS = Path.of("/work/shared/istio/config-dumps/sidecar-lds-2023-06_istioctl-authz-configdump.json");

  private static FilterChainMatcher.Input in(String localIp, int port, @Nullable String sni, String transport, List<String> alpn) {
    return new FilterChainMatcher.Input(
        new InetSocketAddress(localIp, port), new InetSocketAddress("10.1.1.1", 40000), new InetSocketAddress("10.1.1.1", 40000), sni, transport, alpn);
  }

  /** virtualInbound (0.0.0.0:15006) of a real sidecar; chains keep their match, filters are dropped. */
  private static Listener virtualInbound() throws Exception {
    JsonObject dump = JsonParser.parseString(Files.readString(ISTIO_LDS)).getAsJsonObject();
    for (JsonElement config : dump.getAsJsonArray("configs")) {
      JsonArray dynamic = config.getAsJsonObject().getAsJsonArray("dynamic_listeners");
      for (JsonElement l : dynamic == null ? new JsonArray() : dynamic) {
        JsonObject listener = l.getAsJsonObject().getAsJsonObject("active_state").getAsJsonObject("listener");
        if (listener.get("name").getAsString().equals("virtualInbound")) {
          listener.remove("listener_filters");
          for (JsonElement fc : listener.getAsJsonArray("filter_chains")) {
            fc.getAsJsonObject().remove("filters");
            fc.getAsJsonObject().remove("transport_socket");
          }
          Listener.Builder b = Listener.newBuilder();
          JsonFormat.parser().ignoringUnknownFields().merge(listener.toString(), b);
          return b.build();
        }
      }
    }
    throw new AssertionError("virtualInbound not in " + ISTIO_LDS);
  }

  @Test
  void istioVirtualInboundChains() throws Exception {
    Listener l = virtualInbound();
    FilterChainMatcher.Builder<String> b = new FilterChainMatcher.Builder<>(l.getName());
    for (int i = 0; i < l.getFilterChainsCount(); i++) {
      b.add(l.getFilterChains(i).getFilterChainMatch(), l.getFilterChains(i).getName(), "filter_chains[" + i + "]", i + ":" + l.getFilterChains(i).getName());
    }
    FilterChainMatcher<String> m = b.build();
    // mTLS HTTP from a sidecar: ALPN istio-http/1.1 over TLS on the workload port 9080.
    assertThat(m.match(in("10.0.0.5", 9080, "outbound_.9080_._.reviews.default.svc.cluster.local", "tls", List.of("istio-http/1.1", "istio"))))
        .isEqualTo("1:virtualInbound-catchall-http");
    assertThat(m.match(in("10.0.0.5", 9080, null, "raw_buffer", List.of("http/1.1")))).isEqualTo("2:virtualInbound-catchall-http");
    assertThat(m.match(in("10.0.0.5", 9080, null, "raw_buffer", List.of("h2c")))).isEqualTo("2:virtualInbound-catchall-http");
    assertThat(m.match(in("10.0.0.5", 9080, null, "tls", List.of("istio-peer-exchange", "istio")))).isEqualTo("3:virtualInbound");
    assertThat(m.match(in("10.0.0.5", 9080, null, "raw_buffer", List.of()))).isEqualTo("4:virtualInbound");
    assertThat(m.match(in("10.0.0.5", 9080, null, "tls", List.of("h2")))).isEqualTo("5:virtualInbound");
    assertThat(m.match(in("10.0.0.5", 15006, null, "raw_buffer", List.of()))).isEqualTo("0:virtualInbound-blackhole");
    assertThat(m.match(in("10.0.0.5", 80, null, "tls", List.of("istio-h2")))).isEqualTo("6:0.0.0.0_80");
    assertThat(m.match(in("10.0.0.5", 80, null, "raw_buffer", List.of("http/1.1")))).isEqualTo("7:0.0.0.0_80");
    // Port 80 selected: a TLS connection without an Istio ALPN finds no chain there (no backtracking).
    assertThat(m.match(in("10.0.0.5", 80, null, "tls", List.of("h2")))).isNull();
  }

  private static FilterChainMatch.Builder match() {
    return FilterChainMatch.newBuilder();
  }

  private static CidrRange cidr(String ip, int len) {
    return CidrRange.newBuilder().setAddressPrefix(ip).setPrefixLen(UInt32Value.of(len)).build();
  }

  @Test
  void mostSpecificAtEachLevel() {
    FilterChainMatcher<String> m = new FilterChainMatcher.Builder<String>("l")
        .add(match().build(), "any", "fc[0]", "any")
        .add(match().addPrefixRanges(cidr("10.0.0.0", 8)).build(), "10/8", "fc[1]", "10/8")
        .add(match().addPrefixRanges(cidr("10.1.0.0", 16)).build(), "10.1/16", "fc[2]", "10.1/16")
        .add(match().addServerNames("*.example.com").addPrefixRanges(cidr("192.168.0.0", 16)).build(), "wild", "fc[3]", "wild")
        .add(match().addServerNames("*.b.example.com").addPrefixRanges(cidr("192.168.0.0", 16)).build(), "wild2", "fc[4]", "wild2")
        .add(match().addServerNames("a.example.com").addPrefixRanges(cidr("192.168.0.0", 16)).build(), "exact", "fc[5]", "exact")
        .add(match().setDestinationPort(UInt32Value.of(443)).setSourceType(FilterChainMatch.ConnectionSourceType.SAME_IP_OR_LOOPBACK).build(), "local", "fc[6]", "local")
        .add(match().setDestinationPort(UInt32Value.of(443)).addSourcePorts(40000).build(), "srcport", "fc[7]", "srcport")
        .add(match().addPrefixRanges(cidr("2001:db8::", 32)).build(), "v6", "fc[8]", "v6")
        .build();
    assertThat(m.match(in("10.1.2.3", 80, null, "raw_buffer", List.of()))).isEqualTo("10.1/16");
    assertThat(m.match(in("10.2.2.3", 80, null, "raw_buffer", List.of()))).isEqualTo("10/8");
    assertThat(m.match(in("11.0.0.1", 80, null, "raw_buffer", List.of()))).isEqualTo("any");
    assertThat(m.match(in("192.168.1.1", 80, "a.example.com", "tls", List.of()))).isEqualTo("exact");
    assertThat(m.match(in("192.168.1.1", 80, "x.b.example.com", "tls", List.of()))).isEqualTo("wild2");
    assertThat(m.match(in("192.168.1.1", 80, "x.c.example.com", "tls", List.of()))).isEqualTo("wild");
    assertThat(m.match(in("192.168.1.1", 80, "example.org", "tls", List.of()))).as("no catch-all server name under 192.168/16").isNull();
    assertThat(m.match(in("2001:db8::1", 80, null, "raw_buffer", List.of()))).isEqualTo("v6");
    assertThat(m.match(in("2001:db9::1", 80, null, "raw_buffer", List.of()))).isEqualTo("any");
    assertThat(m.match(new FilterChainMatcher.Input(new InetSocketAddress("10.9.9.9", 443), new InetSocketAddress("127.0.0.1", 5), new InetSocketAddress("127.0.0.1", 5), null, "raw_buffer", List.of())))
        .isEqualTo("local");
    assertThat(m.match(in("10.9.9.9", 443, null, "raw_buffer", List.of()))).isEqualTo("srcport");
  }

  @Test
  void defaultChainWhenNothingMatches() {
    FilterChainMatcher<String> m = new FilterChainMatcher.Builder<String>("l")
        .add(match().setTransportProtocol("tls").build(), "tls", "fc[0]", "tls").defaultChain("default").build();
    assertThat(m.match(in("10.0.0.1", 80, null, "raw_buffer", List.of()))).isEqualTo("default");
    assertThat(m.match(in("10.0.0.1", 80, null, "tls", List.of()))).isEqualTo("tls");
  }

  @Test
  void duplicateRulesAreRejectedWithThePath() {
    FilterChainMatcher.Builder<String> b = new FilterChainMatcher.Builder<String>("l")
        .add(match().addApplicationProtocols("h2").addApplicationProtocols("http/1.1").build(), "a", "filter_chains[0]", "a");
    assertThatThrownBy(() -> b.add(match().addApplicationProtocols("http/1.1").build(), "b", "filter_chains[1]", "b"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("multiple filter chains with the same matching rules are defined")
        .extracting(e -> ((ConfigException) e).fieldPath()).isEqualTo("filter_chains[1]");
    assertThatThrownBy(() -> b.add(match().addPrefixRanges(cidr("10.0.0.0", 33)).build(), "c", "filter_chains[2]", "c"))
        .isInstanceOf(ConfigException.class)
        .extracting(e -> ((ConfigException) e).fieldPath()).isEqualTo("filter_chains[2].filter_chain_match.prefix_ranges[0].prefix_len");
  }
}
