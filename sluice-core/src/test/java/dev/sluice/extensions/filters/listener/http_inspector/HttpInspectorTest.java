package dev.sluice.extensions.filters.listener.http_inspector;

import static dev.sluice.listener.fixtures.ListenerHarness.chain;
import static dev.sluice.listener.fixtures.ListenerHarness.connect;
import static dev.sluice.listener.fixtures.ListenerHarness.listener;
import static dev.sluice.listener.fixtures.ListenerHarness.readLine;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.sluice.listener.fixtures.ListenerHarness;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.netty.buffer.Unpooled;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpInspectorTest {
  private static HttpInspector.Verdict inspect(String s) {
    return HttpInspector.inspect(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
  }

  @Test
  void recognisesRequestLinesAndThePreface() {
    assertThat(inspect("GET /productpage HTTP/1.1\r\nHost: x\r\n")).isEqualTo(HttpInspector.Verdict.HTTP11);
    assertThat(inspect("POST / HTTP/1.0\r\n")).isEqualTo(HttpInspector.Verdict.HTTP10);
    assertThat(inspect("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).isEqualTo(HttpInspector.Verdict.H2);
    assertThat(inspect("PRI * HTTP/2")).isEqualTo(HttpInspector.Verdict.NEED_MORE);
    assertThat(inspect("GET /a HT")).isEqualTo(HttpInspector.Verdict.NEED_MORE);
    assertThat(inspect("GET /a HTTP/2.0\r\n")).isEqualTo(HttpInspector.Verdict.NOT_HTTP);
    assertThat(inspect("\u0016\u0003\u0001")).isEqualTo(HttpInspector.Verdict.NOT_HTTP);
    assertThat(inspect("SSH-2.0-OpenSSH\r\n")).isEqualTo(HttpInspector.Verdict.NOT_HTTP);
  }

  @Test
  void setsAlpnForChainMatchingOverRealSockets() throws Exception {
    try (ListenerHarness h = new ListenerHarness(1)) {
      ListenerFilter inspector = ListenerFilter.newBuilder().setName("envoy.filters.listener.http_inspector").setTypedConfig(Any.pack(io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector.getDefaultInstance())).build();
      h.manager.addOrUpdate(listener("l", 0).addListenerFilters(inspector)
          .addFilterChains(chain("http", FilterChainMatch.newBuilder().addApplicationProtocols("http/1.1").addApplicationProtocols("h2c").build()))
          .addFilterChains(chain("tcp", FilterChainMatch.getDefaultInstance())).build());
      try (Socket s = connect(h.port("l"))) {
        s.getOutputStream().write("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(readLine(s)).startsWith("http|null|raw_buffer|http/1.1|");
      }
      try (Socket s = connect(h.port("l"))) {
        s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(readLine(s)).startsWith("http|null|raw_buffer|h2c|");
      }
      try (Socket s = connect(h.port("l"))) {
        s.getOutputStream().write("hello there\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(readLine(s)).startsWith("tcp|");
      }
      assertThat(h.counter("http_inspector.http11_found")).isEqualTo(1);
      assertThat(h.counter("http_inspector.http2_found")).isEqualTo(1);
      assertThat(h.counter("http_inspector.http_not_found")).isEqualTo(1);
    }
  }
}
