package dev.sluice.listener;

import static dev.sluice.listener.fixtures.ListenerHarness.address;
import static dev.sluice.listener.fixtures.ListenerHarness.chain;
import static dev.sluice.listener.fixtures.ListenerHarness.connect;
import static dev.sluice.listener.fixtures.ListenerHarness.listener;
import static dev.sluice.listener.fixtures.ListenerHarness.readLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.BoolValue;
import dev.sluice.api.config.ConfigException;
import dev.sluice.listener.fixtures.ListenerHarness;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * {@code transparent} and {@code freebind} on real listening sockets, read back with getsockopt.
 * Addresses from the documentation ranges (192.0.2.0/24, 2001:db8::/32) are only bound, never
 * sent to.
 */
class ListenerSocketOptionsTest {
  private static final IntegerUnixChannelOption IPV6_TRANSPARENT = new IntegerUnixChannelOption("IPV6_TRANSPARENT", 41, 75);

  private static Listener.Builder withChain(Listener.Builder b) {
    return b.addFilterChains(chain("a", FilterChainMatch.getDefaultInstance()));
  }

  @Test
  void transparentSetsIpTransparentOnEveryWorkersSocketAndStillAccepts() throws IOException {
    assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0, "IP_TRANSPARENT needs CAP_NET_ADMIN: run as root");
    try (ListenerHarness h = new ListenerHarness(2)) {
      h.manager.addOrUpdate(withChain(listener("tproxy", 0).setTransparent(BoolValue.of(true))).build());
      h.manager.addOrUpdate(withChain(listener("v6", 0).setAddress(address("::1", 0)).setTransparent(BoolValue.of(true))).build());
      h.manager.addOrUpdate(withChain(listener("plain", 0)).build());
      assertThat(h.manager.get("tproxy").serverChannels()).hasSize(2)
          .allSatisfy(ch -> assertThat(ch.config().getOption(EpollChannelOption.IP_TRANSPARENT)).isTrue());
      Channel v6 = h.manager.get("v6").serverChannels().get(0);
      assertThat(v6.config().getOption(IPV6_TRANSPARENT)).isEqualTo(1);
      assertThat(h.manager.get("plain").serverChannels().get(0).config().getOption(EpollChannelOption.IP_TRANSPARENT)).isFalse();
      try (Socket s = connect(h.port("tproxy"))) {
        assertThat(readLine(s)).startsWith("a|");
      }
    }
  }

  @Test
  void transparentFalseClearsTheOption() {
    try (ListenerHarness h = new ListenerHarness(1)) {
      h.manager.addOrUpdate(withChain(listener("l", 0).setTransparent(BoolValue.of(false))).build());
      assertThat(h.manager.get("l").serverChannels().get(0).config().getOption(EpollChannelOption.IP_TRANSPARENT)).isFalse();
    }
  }

  @Test
  void freebindBindsAnAddressThisHostDoesNotHave() {
    try (ListenerHarness h = new ListenerHarness(1)) {
      Listener.Builder foreign = withChain(listener("foreign", 0).setAddress(address("192.0.2.1", 0)));
      assertThatThrownBy(() -> h.manager.addOrUpdate(foreign.build()))
          .isInstanceOf(ConfigException.class).hasMessageStartingWith("address: cannot bind");
      h.manager.addOrUpdate(foreign.setFreebind(BoolValue.of(true)).build());
      Channel ch = h.manager.get("foreign").serverChannels().get(0);
      assertThat(ch.config().getOption(EpollChannelOption.IP_FREEBIND)).isTrue();
      assertThat(h.manager.get("foreign").boundAddresses().get(0).getAddress().getHostAddress()).isEqualTo("192.0.2.1");

      h.manager.addOrUpdate(withChain(listener("foreign6", 0).setAddress(address("2001:db8::1", 0)).setFreebind(BoolValue.of(true))).build());
      assertThat(h.manager.get("foreign6").boundAddresses().get(0).getPort()).isPositive();
    }
  }

  @Test
  void nioTransportRefusesTransparentAndFreebindWithTheirFieldNames() {
    try (ListenerHarness h = new ListenerHarness(1, false, GlobalConnectionLimit.unlimited(), Duration.ofSeconds(1))) {
      assertThatThrownBy(() -> h.manager.addOrUpdate(withChain(listener("t", 0).setTransparent(BoolValue.of(true))).build()))
          .isInstanceOf(ConfigException.class).hasMessageStartingWith("transparent: needs the epoll transport");
      assertThatThrownBy(() -> h.manager.addOrUpdate(withChain(listener("f", 0).setFreebind(BoolValue.of(true))).build()))
          .isInstanceOf(ConfigException.class).hasMessageStartingWith("freebind: needs the epoll transport");
    }
  }
}
