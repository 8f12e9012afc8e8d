package dev.sluice.extensions.filters.listener.tls_inspector;

import static dev.sluice.listener.fixtures.ListenerHarness.chain;
import static dev.sluice.listener.fixtures.ListenerHarness.connect;
import static dev.sluice.listener.fixtures.ListenerHarness.listener;
import static dev.sluice.listener.fixtures.ListenerHarness.readLine;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.sluice.listener.fixtures.ListenerHarness;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

class TlsInspectorTest {
  /** The first flight of a JDK TLS client: a real ClientHello with SNI and ALPN. */
  static byte[] clientHello(String sni, String... alpn) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, null, null);
    SSLEngine engine = ctx.createSSLEngine(sni, 443);
    engine.setUseClientMode(true);
    SSLParameters params = engine.getSSLParameters();
    params.setServerNames(List.of(new SNIHostName(sni)));
    params.setApplicationProtocols(alpn);
    engine.setSSLParameters(params);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] bytes = new byte[out.remaining()];
    out.get(bytes);
    return bytes;
  }

  @Test
  void parsesSniAndAlpnFromARealClientHello() throws Exception {
    byte[] hello = clientHello("Reviews.Default.svc", "istio-http/1.1", "h2");
    ClientHelloParser.Result r = ClientHelloParser.parse(Unpooled.wrappedBuffer(hello));
    assertThat(r.outcome()).isEqualTo(ClientHelloParser.Outcome.CLIENT_HELLO);
    assertThat(r.serverName()).isEqualTo("reviews.default.svc");
    assertThat(r.alpn()).containsExactly("istio-http/1.1", "h2");
    assertThat(ClientHelloParser.parse(Unpooled.wrappedBuffer(hello, 0, hello.length - 1)).outcome()).isEqualTo(ClientHelloParser.Outcome.NEED_MORE);
    assertThat(ClientHelloParser.parse(Unpooled.wrappedBuffer("GET / HTTP/1.1\r\n".getBytes())).outcome()).isEqualTo(ClientHelloParser.Outcome.NOT_TLS);
  }

  @Test
  void reassemblesAClientHelloSplitOverTwoRecords() throws Exception {
    byte[] hello = clientHello("a.example.com", "h2");
    int body = hello.length - 5;
    int first = body / 2;
    ByteBuf split = Unpooled.buffer();
    split.writeBytes(hello, 0, 3).writeShort(first).writeBytes(hello, 5, first);
    split.writeBytes(hello, 0, 3).writeShort(body - first).writeBytes(hello, 5 + first, body - first);
    ClientHelloParser.Result r = ClientHelloParser.parse(split);
    assertThat(r.serverName()).isEqualTo("a.example.com");
    assertThat(r.alpn()).containsExactly("h2");
  }

  @Test
  void choosesTheChainBySniOverRealSockets() throws Exception {
    try (ListenerHarness h = new ListenerHarness(1)) {
      ListenerFilter inspector = ListenerFilter.newBuilder().setName("envoy.filters.listener.tls_inspector").setTypedConfig(Any.pack(TlsInspector.getDefaultInstance())).build();
      h.manager.addOrUpdate(listener("l", 0).addListenerFilters(inspector)
          .addFilterChains(chain("sni", FilterChainMatch.newBuilder().addServerNames("*.example.com").setTransportProtocol("tls").build()))
          .addFilterChains(chain("plain", FilterChainMatch.newBuilder().setTransportProtocol("raw_buffer").build())).build());
      try (Socket s = connect(h.port("l"))) {
        byte[] hello = clientHello("a.example.com", "h2", "http/1.1");
        // In two writes, so the inspector has to wait for the rest.
        s.getOutputStream().write(hello, 0, 20);
        s.getOutputStream().flush();
        s.getOutputStream().write(hello, 20, hello.length - 20);
        assertThat(readLine(s)).startsWith("sni|a.example.com|tls|h2,http/1.1|");
        // The peeked bytes reach the chain intact: it echoes the whole ClientHello.
        assertThat(s.getInputStream().readNBytes(hello.length)).isEqualTo(hello);
      }
      try (Socket s = connect(h.port("l"))) {
        s.getOutputStream().write("plain bytes".getBytes());
        assertThat(readLine(s)).startsWith("plain|null|raw_buffer||");
      }
      assertThat(h.counter("tls_inspector.tls_found")).isEqualTo(1);
      assertThat(h.counter("tls_inspector.sni_found")).isEqualTo(1);
      assertThat(h.counter("tls_inspector.alpn_found")).isEqualTo(1);
      assertThat(h.counter("tls_inspector.tls_not_found")).isEqualTo(1);
    }
  }
}
