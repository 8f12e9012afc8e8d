package dev.sluice.listener;

import static dev.sluice.listener.fixtures.ListenerHarness.chain;
import static dev.sluice.listener.fixtures.ListenerHarness.connect;
import static dev.sluice.listener.fixtures.ListenerHarness.listener;
import static dev.sluice.listener.fixtures.ListenerHarness.readLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.util.Durations;
import dev.sluice.api.config.ConfigException;
import dev.sluice.listener.fixtures.ListenerHarness;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Listeners over real sockets on 127.0.0.1 (cluster manager, registry and context are test fixtures). */
class ListenerManagerTest {

  private static ListenerFilter tlsInspector() {
    return ListenerFilter.newBuilder().setName("envoy.filters.listener.tls_inspector").setTypedConfig(Any.pack(TlsInspector.getDefaultInstance())).build();
  }

  @Test
  void eachWorkerAcceptsOnItsOwnReusePortSocket() throws IOException {
    try (ListenerHarness h = new ListenerHarness(2)) {
      assertThat(h.workers.epoll()).as("this test needs the epoll transport").isTrue();
      h.manager.addOrUpdate(listener("l", 0).addFilterChains(chain("a", FilterChainMatch.getDefaultInstance())).build());
      int port = h.port("l");
      assertThat(h.manager.get("l").boundAddresses()).hasSize(1);
      List<Socket> sockets = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        Socket s = connect(port);
        sockets.add(s);
        assertThat(readLine(s)).startsWith("a|");
      }
      // Named after the configured address, as Envoy names a port-0 listener "127.0.0.1_0".
      String prefix = "listener.127.0.0.1_0.";
      assertThat(h.counter(prefix + "downstream_cx_total")).isEqualTo(40);
      assertThat(h.gauge(prefix + "downstream_cx_active")).isEqualTo(40);
      // The kernel spreads connections over both SO_REUSEPORT sockets (2^-39 odds otherwise).
      assertThat(h.counter(prefix + "worker_0.downstream_cx_total")).isPositive();
      assertThat(h.counter(prefix + "worker_1.downstream_cx_total")).isPositive();
      assertThat(h.counter("listener_manager.listener_create_success")).isEqualTo(2);
      for (Socket s : sockets) {
        s.close();
      }
      await().until(() -> h.gauge(prefix + "downstream_cx_active") == 0);
      assertThat(h.counter(prefix + "downstream_cx_destroy")).isEqualTo(40);
    }
  }

  @Test
  void nioFallbackAcceptsOnOneSocketAndSpreadsOverWorkers() throws IOException {
    try (ListenerHarness h = new ListenerHarness(2, false, GlobalConnectionLimit.unlimited(), Duration.ofSeconds(1))) {
      h.manager.addOrUpdate(listener("l", 0).setStatPrefix("nio").addFilterChains(chain("a", FilterChainMatch.getDefaultInstance())).build());
      for (int i = 0; i < 4; i++) {
        try (Socket s = connect(h.port("l"))) {
          assertThat(readLine(s)).startsWith("a|");
        }
      }
      assertThat(h.counter("listener.nio.worker_0.downstream_cx_total")).isEqualTo(2);
      assertThat(h.counter("listener.nio.worker_1.downstream_cx_total")).isEqualTo(2);
    }
  }

  @Test
  void echoesThroughTheChosenChain() throws IOException {
    try (ListenerHarness h = new ListenerHarness(1)) {
      h.manager.addOrUpdate(listener("l", 0).addFilterChains(chain("a", FilterChainMatch.getDefaultInstance())).build());
      try (Socket s = connect(h.port("l"))) {
        assertThat(readLine(s)).isEqualTo("a|null|raw_buffer||" + h.port("l") + "|0");
        s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(readLine(s)).isEqualTo("hello");
      }
    }
  }

  @Test
  void noMatchingChainClosesAndCounts() throws IOException {
    try (ListenerHarness h = new ListenerHarness(1)) {
      h.manager.addOrUpdate(listener("l", 0).setStatPrefix("p").addFilterChains(chain("a", FilterChainMatch.newBuilder().setTransportProtocol("tls").build())).build());
      try (Socket s = connect(h.port("l"))) {
        assertThat(s.getInputStream().read()).isEqualTo(-1);
      }
      await().until(() -> h.counter("listener.p.no_filter_chain_match") == 1);
      assertThat(h.counter("listener.p.downstream_cx_total")).isZero();
    }
  }

  @Test
  void listenerFiltersTimeoutClosesOrContinues() throws IOException {
    try (ListenerHarness h = new ListenerHarness(1)) {
      Listener.Builder b = listener("close", 0).setStatPrefix("close").addListenerFilters(tlsInspector())
          .setListenerFiltersTimeout(Durations.fromMillis(100)).addFilterChains(chain("a", FilterChainMatch.getDefaultInstance()));
      h.manager.addOrUpdate(b.build());
      h.manager.addOrUpdate(b.setName("cont").setStatPrefix("cont").setContinueOnListenerFiltersTimeout(true).build());
      try (Socket s = connect(h.port("close"))) {
        assertThat(s.getInputStream().read()).isEqualTo(-1);
      }
      assertThat(h.counter("listener.close.downstream_pre_cx_timeout")).isEqualTo(1);
      try (Socket s = connect(h.port("cont"))) {
        assertThat(readLine(s)).startsWith("a|null|raw_buffer|");
      }
      assertThat(h.counter("listener.cont.downstream_pre_cx_timeout")).isEqualTo(1);
      await().until(() -> h.gauge("listener.cont.downstream_pre_cx_active") == 0 && h.gauge("listener.close.downstream_pre_cx_active") == 0);
    }
  }

  @Test
  void updateDrainsTheOldVersionOnTheSamePort() throws IOException {
    try (ListenerHarness h = new ListenerHarness(2, Workers.epollAvailable(), GlobalConnectionLimit.unlimited(), Duration.ofMillis(500))) {
      h.manager.addOrUpdate(listener("l", 0).setStatPrefix("l").addFilterChains(chain("v1", FilterChainMatch.getDefaultInstance())).build());
      int port = h.port("l");
      Socket old = connect(port);
      assertThat(readLine(old)).startsWith("v1|");
      assertThat(h.manager.addOrUpdate(listener("l", 0).setStatPrefix("l").addFilterChains(chain("v2", FilterChainMatch.getDefaultInstance())).build())).isTrue();
      assertThat(h.port("l")).isEqualTo(port);
      assertThat(h.counter("listener_manager.listener_modified")).isEqualTo(1);
      assertThat(h.gauge("listener_manager.total_listeners_draining")).isEqualTo(1);
      for (int i = 0; i < 5; i++) {
        try (Socket s = connect(port)) {
          assertThat(readLine(s)).startsWith("v2|");
        }
      }
      // The old connection still works while draining...
      old.getOutputStream().write("still\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readLine(old)).isEqualTo("still");
      // ...and is closed at the end of the drain time.
      assertThat(old.getInputStream().read()).isEqualTo(-1);
      old.close();
      await().until(() -> h.gauge("listener_manager.total_listeners_draining") == 0);
      assertThat(h.manager.addOrUpdate(listener("l", 0).setStatPrefix("l").addFilterChains(chain("v2", FilterChainMatch.getDefaultInstance())).build()))
          .as("an identical config is ignored").isFalse();
    }
  }

  @Test
  void removeAndStopListeningCloseSockets() throws IOException {
    try (ListenerHarness h = new ListenerHarness(1)) {
      h.manager.addOrUpdate(listener("a", 0).addFilterChains(chain("a", FilterChainMatch.getDefaultInstance())).build());
      h.manager.addOrUpdate(listener("b", 0).addFilterChains(chain("b", FilterChainMatch.getDefaultInstance())).build());
      int a = h.port("a");
      int b = h.port("b");
      assertThat(h.gauge("listener_manager.total_listeners_active")).isEqualTo(2);
      Socket kept = connect(b);
      assertThat(readLine(kept)).startsWith("b|");
      assertThat(h.manager.remove("a")).isTrue();
      assertThat(h.counter("listener_manager.listener_removed")).isEqualTo(1);
      assertThatThrownBy(() -> connect(a)).isInstanceOf(java.net.ConnectException.class);
      h.manager.stopListening();
      assertThatThrownBy(() -> connect(b)).isInstanceOf(java.net.ConnectException.class);
      kept.getOutputStream().write("x\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readLine(kept)).isEqualTo("x");
      kept.close();
    }
  }

  @Test
  void globalConnectionLimitClosesConnectionsOverIt() throws IOException {
    try (ListenerHarness h = new ListenerHarness(1, Workers.epollAvailable(), new GlobalConnectionLimit(1), Duration.ofSeconds(1))) {
      h.manager.addOrUpdate(listener("l", 0).setStatPrefix("l").addFilterChains(chain("a", FilterChainMatch.getDefaultInstance())).build());
      try (Socket first = connect(h.port("l")); Socket second = connect(h.port("l"))) {
        assertThat(readLine(first)).startsWith("a|");
        assertThat(second.getInputStream().read()).isEqualTo(-1);
        assertThat(h.counter("listener.l.downstream_global_cx_overflow")).isEqualTo(1);
      }
      await().untilAsserted(() -> {
        try (Socket again = connect(h.port("l"))) {
          assertThat(readLine(again)).startsWith("a|");
        }
      });
    }
  }

  @Test
  void findByAddressPrefersExactThenWildcard() {
    try (ListenerHarness h = new ListenerHarness(1)) {
      h.manager.addOrUpdate(listener("exact", 9080).setAddress(ListenerHarness.address("10.0.0.1", 9080)).setBindToPort(BoolValue.of(false))
          .addFilterChains(chain("a", FilterChainMatch.getDefaultInstance())).build());
      h.manager.addOrUpdate(listener("any", 9080).setAddress(ListenerHarness.address("0.0.0.0", 9080)).setBindToPort(BoolValue.of(false))
          .addFilterChains(chain("a", FilterChainMatch.getDefaultInstance())).build());
      assertThat(h.manager.findByAddress(new InetSocketAddress("10.0.0.1", 9080)).name()).isEqualTo("exact");
      assertThat(h.manager.findByAddress(new InetSocketAddress("10.0.0.2", 9080)).name()).isEqualTo("any");
      assertThat(h.manager.findByAddress(new InetSocketAddress("10.0.0.1", 9081))).isNull();
      assertThat(h.manager.get("any").boundAddresses()).isEmpty();
      assertThat(ActiveListener.statPrefix(Listener.getDefaultInstance(), new InetSocketAddress("::", 80))).isEqualTo("[__]_80");
    }
  }

  @Test
  void configErrorsNameTheField() {
    try (ListenerHarness h = new ListenerHarness(1)) {
      Listener unknown = listener("l", 0).addFilterChains(io.envoyproxy.envoy.config.listener.v3.FilterChain.newBuilder()
          .addFilters(Filter.newBuilder().setName("example.no_such_filter").setTypedConfig(Any.pack(com.google.protobuf.Empty.getDefaultInstance())))).build();
      assertThatThrownBy(() -> h.manager.addOrUpdate(unknown)).isInstanceOf(ConfigException.class)
          .extracting(e -> ((ConfigException) e).fieldPath()).isEqualTo("filter_chains[0].filters[0].typed_config");
      Listener dup = listener("l", 0).addFilterChains(chain("a", FilterChainMatch.getDefaultInstance())).addFilterChains(chain("b", FilterChainMatch.getDefaultInstance())).build();
      assertThatThrownBy(() -> h.manager.addOrUpdate(dup)).isInstanceOf(ConfigException.class)
          .hasMessageContaining("filter_chains[1]").hasMessageContaining("multiple filter chains with the same matching rules are defined");
      assertThat(h.manager.listeners()).isEmpty();
    }
  }
}
