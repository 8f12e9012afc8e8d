package dev.sluice.tls;

import static dev.sluice.tls.TlsConfigs.certificate;
import static dev.sluice.tls.TlsConfigs.exact;
import static dev.sluice.tls.TlsConfigs.san;
import static dev.sluice.tls.TlsConfigs.trusting;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.SanType;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The upstream handler in a Netty client pipeline against a JDK TLS server on 127.0.0.1:0. */
class UpstreamTlsTest {
  private static final TestPki PKI = TestPki.get();
  private final StatsStore stats = new StatsStore();
  private EventLoopGroup group;
  private SSLServerSocket server;
  /** What the server saw: {@code sni|alpn|client SAN count}, or the server's handshake error. */
  private final CompletableFuture<String> serverSaw = new CompletableFuture<>();

  @BeforeEach
  void setUp() {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  @AfterEach
  void tearDown() throws IOException {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    if (server != null) {
      server.close();
    }
  }

  /** A one-connection JDK TLS server presenting the test server certificate. */
  private int startServer(boolean needClientAuth, String... alpn) throws Exception {
    SSLContext ctx = TestPki.jdkContext(PKI.serverCert, PKI.serverKey, PKI.caCert);
    server = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(0, 1, InetAddress.getLoopbackAddress());
    SSLParameters p = server.getSSLParameters();
    p.setApplicationProtocols(alpn);
    p.setNeedClientAuth(needClientAuth);
    server.setSSLParameters(p);
    Thread t = new Thread(() -> {
      try (SSLSocket s = (SSLSocket) server.accept()) {
        s.setSoTimeout(10_000);
        s.startHandshake();
        ExtendedSSLSession session = (ExtendedSSLSession) s.getSession();
        String sni = session.getRequestedServerNames().isEmpty() ? "" : new String(session.getRequestedServerNames().get(0).getEncoded(), StandardCharsets.US_ASCII);
        int peers = needClientAuth ? session.getPeerCertificates().length : 0;
        String line = sni + "|" + s.getApplicationProtocol() + "|" + peers;
        serverSaw.complete(line);
        s.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        s.getInputStream().read();
      } catch (IOException e) {
        serverSaw.complete("error: " + e.getMessage());
      }
    }, "tls-test-server");
    t.setDaemon(true);
    t.start();
    return server.getLocalPort();
  }

  /** The outcome a pool would see: the handshake event, then the server's line. */
  private record Outcome(SslHandshakeCompletionEvent handshake, String negotiated, String firstLine) {}

  private Outcome connect(UpstreamTransportSocket tls, int port, UpstreamTransportSocket.Alpn alpn) throws Exception {
    CompletableFuture<SslHandshakeCompletionEvent> handshake = new CompletableFuture<>();
    CompletableFuture<String> line = new CompletableFuture<>();
    Host host = host(port);
    Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel c) {
            c.pipeline().addLast("sluice-tls", tls.newHandler(c.alloc(), host, null, alpn));
            c.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof SslHandshakeCompletionEvent e) {
                  handshake.complete(e);
                }
              }

              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                line.complete(b.toString(StandardCharsets.US_ASCII).trim());
                b.release();
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
              }

              @Override
              public void channelInactive(ChannelHandlerContext ctx) {
                line.complete("closed");
              }
            });
          }
        })
        .connect(new InetSocketAddress("127.0.0.1", port)).sync().channel();
    SslHandshakeCompletionEvent e = handshake.get(10, TimeUnit.SECONDS);
    String negotiated = String.valueOf(UpstreamTransportSocket.negotiatedProtocol(ch));
    return new Outcome(e, negotiated, line.get(10, TimeUnit.SECONDS));
  }

  private long counter(String name) {
    return stats.counter("cluster.tls_cluster." + name).value();
  }

  private UpstreamTransportSocket socket(UpstreamTlsContext config, ClusterInfo.UpstreamProtocol protocol) {
    return UpstreamTransportSocket.forCluster(cluster(Any.pack(config), protocol), SecretProvider.NONE);
  }

  @Test
  void verifiesServerSanSendsSniAndNegotiatesH2() throws Exception {
    UpstreamTransportSocket tls = socket(UpstreamTlsContext.newBuilder().setSni("server.test")
        .setCommonTlsContext(CommonTlsContext.newBuilder().setValidationContext(trusting(PKI.caCert)
            .addMatchTypedSubjectAltNames(san(SanType.DNS, exact("server.test")))))
        .build(), ClusterInfo.UpstreamProtocol.AUTO);
    assertThat(tls.alpn()).containsExactly("h2", "http/1.1");
    Outcome o = connect(tls, startServer(false, "h2", "http/1.1"), UpstreamTransportSocket.Alpn.AUTO);
    assertThat(o.handshake().isSuccess()).isTrue();
    assertThat(o.negotiated()).isEqualTo("h2");
    assertThat(o.firstLine()).isEqualTo("server.test|h2|0");
    await().untilAsserted(() -> {
      assertThat(counter("ssl.handshake")).isEqualTo(1);
      assertThat(counter("ssl.versions.TLSv1.2")).isEqualTo(1); // Envoy's client default maximum
    });
  }

  @Test
  void sanMismatchFailsTheHandshake() throws Exception {
    UpstreamTransportSocket tls = socket(UpstreamTlsContext.newBuilder()
        .setCommonTlsContext(CommonTlsContext.newBuilder().setValidationContext(trusting(PKI.caCert)
            .addMatchTypedSubjectAltNames(san(SanType.URI, exact(TestPki.CLIENT_SPIFFE)))))
        .build(), ClusterInfo.UpstreamProtocol.HTTP1);
    Outcome o = connect(tls, startServer(false, "http/1.1"), UpstreamTransportSocket.Alpn.HTTP1);
    assertThat(o.handshake().isSuccess()).isFalse();
    assertThat(o.firstLine()).isEqualTo("closed");
    await().untilAsserted(() -> {
      assertThat(counter("ssl.fail_verify_san")).isEqualTo(1);
      assertThat(counter("ssl.connection_error")).isEqualTo(1);
    });
    assertThat(counter("ssl.handshake")).isZero();
  }

  @Test
  void untrustedServerFailsVerification() throws Exception {
    UpstreamTransportSocket tls = socket(UpstreamTlsContext.newBuilder()
        .setCommonTlsContext(CommonTlsContext.newBuilder().setValidationContext(trusting(PKI.otherCaCert)))
        .build(), ClusterInfo.UpstreamProtocol.HTTP1);
    Outcome o = connect(tls, startServer(false), UpstreamTransportSocket.Alpn.NONE);
    assertThat(o.handshake().isSuccess()).isFalse();
    await().untilAsserted(() -> assertThat(counter("ssl.fail_verify_error")).isEqualTo(1));
  }

  @Test
  void mutualTlsPresentsTheClientCertificate() throws Exception {
    UpstreamTransportSocket tls = socket(UpstreamTlsContext.newBuilder().setSni("server.test")
        .setCommonTlsContext(CommonTlsContext.newBuilder()
            .addTlsCertificates(certificate(PKI.clientCert, PKI.clientKey))
            .addAlpnProtocols("istio-peer-exchange").addAlpnProtocols("istio")
            .setValidationContext(trusting(PKI.caCert)
                .addMatchTypedSubjectAltNames(san(SanType.URI, exact(TestPki.SERVER_SPIFFE)))))
        .build(), ClusterInfo.UpstreamProtocol.HTTP2);
    assertThat(tls.alpn()).containsExactly("istio-peer-exchange", "istio");
    Outcome o = connect(tls, startServer(true, "istio"), UpstreamTransportSocket.Alpn.HTTP2);
    assertThat(o.handshake().isSuccess()).isTrue();
    assertThat(o.negotiated()).isEqualTo("istio");
    assertThat(o.firstLine()).isEqualTo("server.test|istio|1"); // the client leaf reached the server
  }

  @Test
  void withoutClientCertificateMutualTlsServerRefuses() throws Exception {
    UpstreamTransportSocket tls = socket(UpstreamTlsContext.newBuilder()
        .setCommonTlsContext(CommonTlsContext.newBuilder().setValidationContext(trusting(PKI.caCert)))
        .build(), ClusterInfo.UpstreamProtocol.HTTP1);
    Outcome o = connect(tls, startServer(true), UpstreamTransportSocket.Alpn.HTTP1);
    // TLS 1.2: the server's rejection arrives during the handshake.
    assertThat(o.handshake().isSuccess()).isFalse();
    assertThat(serverSaw.get(10, TimeUnit.SECONDS)).startsWith("error:");
  }

  @Test
  void plaintextAndMissingSecrets() throws Exception {
    assertThat(UpstreamTransportSocket.forCluster(cluster(null, ClusterInfo.UpstreamProtocol.HTTP1), SecretProvider.NONE)).isNull();
    assertThat(UpstreamTransportSocket.forCluster(cluster(Any.pack(io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer.getDefaultInstance()),
        ClusterInfo.UpstreamProtocol.HTTP1), SecretProvider.NONE)).isNull();

    UpstreamTransportSocket tls = socket(UpstreamTlsContext.newBuilder()
        .setCommonTlsContext(CommonTlsContext.newBuilder().addTlsCertificateSdsSecretConfigs(
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig.newBuilder().setName("default")))
        .build(), ClusterInfo.UpstreamProtocol.HTTP1);
    Outcome o = connect(tls, startServer(false), UpstreamTransportSocket.Alpn.HTTP1);
    assertThat(o.handshake().isSuccess()).isFalse();
    assertThat(o.handshake().cause()).hasMessageContaining("secret 'default'");
    assertThat(counter("client_ssl_socket_factory.upstream_context_secrets_not_ready")).isEqualTo(1);
    assertThat(counter("ssl.connection_error")).isEqualTo(1);
  }

  private ClusterInfo cluster(Any transportSocket, ClusterInfo.UpstreamProtocol protocol) {
    StatsScope scope = stats.scope("cluster.tls_cluster.");
    return (ClusterInfo) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ClusterInfo.class}, (proxy, m, args) -> switch (m.getName()) {
      case "name" -> "tls_cluster";
      case "statsScope" -> scope;
      case "transportSocket" -> transportSocket;
      case "upstreamProtocol" -> protocol;
      default -> throw new UnsupportedOperationException(m.getName());
    });
  }

  private static Host host(int port) {
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
    return (Host) Proxy.newProxyInstance(UpstreamTlsTest.class.getClassLoader(), new Class<?>[] {Host.class}, (proxy, m, args) -> switch (m.getName()) {
      case "address" -> address;
      case "hostname" -> "";
      default -> throw new UnsupportedOperationException(m.getName());
    });
  }

}
