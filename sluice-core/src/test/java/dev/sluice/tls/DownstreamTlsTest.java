package dev.sluice.tls;

import static dev.sluice.tls.TlsConfigs.caSecret;
import static dev.sluice.tls.TlsConfigs.certificate;
import static dev.sluice.tls.TlsConfigs.certificateSecret;
import static dev.sluice.tls.TlsConfigs.exact;
import static dev.sluice.tls.TlsConfigs.prefix;
import static dev.sluice.tls.TlsConfigs.san;
import static dev.sluice.tls.TlsConfigs.trusting;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.StringValue;
import dev.sluice.api.config.ConfigException;
import dev.sluice.listener.GlobalConnectionLimit;
import dev.sluice.listener.ListenerManager;
import dev.sluice.listener.Workers;
import dev.sluice.listener.fixtures.TestClusterManager;
import dev.sluice.listener.fixtures.TestExtensionRegistry;
import dev.sluice.listener.fixtures.TestFactoryContext;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.SanType;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real listener with a DownstreamTlsContext on 127.0.0.1:0, driven by JDK TLS clients. */
class DownstreamTlsTest {
  private static final TestPki PKI = TestPki.get();
  private final StatsStore stats = new StatsStore();
  private final TestSecretProvider secrets = new TestSecretProvider();
  private Workers workers;
  private ScheduledExecutorService control;
  private ListenerManager manager;

  @BeforeEach
  void setUp() {
    workers = new Workers(1, Workers.epollAvailable());
    control = Executors.newSingleThreadScheduledExecutor();
    TestFactoryContext context = new TestFactoryContext(stats, new TestClusterManager(stats), new TestExtensionRegistry(new TlsEchoFilterFactory()), 1, control);
    TlsDownstreamTransportSockets sockets = new TlsDownstreamTransportSockets(secrets, ctx -> stats.scope("listener.tls_test."));
    manager = new ListenerManager(workers, stats, l -> context, sockets, GlobalConnectionLimit.unlimited(), control, Duration.ofSeconds(1));
  }

  @AfterEach
  void tearDown() {
    manager.close();
    workers.close();
    control.shutdownNow();
  }

  private int start(DownstreamTlsContext tls) {
    Listener l = Listener.newBuilder()
        .setName("tls")
        .setStatPrefix("tls_test")
        .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(0)))
        .addFilterChains(FilterChain.newBuilder()
            .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Any.pack(tls)))
            .addFilters(Filter.newBuilder().setName("test.tls_echo").setTypedConfig(Any.pack(StringValue.of("tls")))))
        .build();
    manager.addOrUpdate(l);
    return manager.get("tls").boundAddresses().get(0).getPort();
  }

  private long counter(String name) {
    return stats.counter("listener.tls_test." + name).value();
  }

  private static CommonTlsContext.Builder serverCommon() {
    return CommonTlsContext.newBuilder().addTlsCertificates(certificate(PKI.serverCert, PKI.serverKey));
  }

  private static SSLSocket connect(int port, SSLContext ctx, String sni, String... alpn) throws IOException {
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
    s.setSoTimeout(10_000);
    SSLParameters p = s.getSSLParameters();
    p.setServerNames(List.of(new SNIHostName(sni)));
    p.setApplicationProtocols(alpn);
    s.setSSLParameters(p);
    return s;
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1 && c != '\n') {
      sb.append((char) c);
    }
    if (c == -1) {
      throw new IOException("closed after '" + sb + "'");
    }
    return sb.toString();
  }

  /** Handshakes, reads the server's line and echoes one line; false when the server refused. */
  private static boolean accepted(SSLSocket s) {
    try (s) {
      s.startHandshake();
      readLine(s.getInputStream());
      s.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
      return readLine(s.getInputStream()).equals("ping");
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void negotiatesSniAndAlpnAndEchoes() throws Exception {
    int port = start(DownstreamTlsContext.newBuilder().setCommonTlsContext(serverCommon().addAlpnProtocols("h2").addAlpnProtocols("http/1.1")).build());
    try (SSLSocket s = connect(port, TestPki.jdkContext(null, null, PKI.caCert), "server.test", "h2", "http/1.1")) {
      s.startHandshake();
      assertThat(s.getApplicationProtocol()).isEqualTo("h2");
      assertThat(readLine(s.getInputStream())).isEqualTo("server.test|tls|h2");
      s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readLine(s.getInputStream())).isEqualTo("hello");
      String cipher = TlsStats.envoyCipherName(s.getSession().getCipherSuite());
      await().untilAsserted(() -> {
        assertThat(counter("ssl.handshake")).isEqualTo(1);
        assertThat(counter("ssl.versions.TLSv1.3")).isEqualTo(1);
        assertThat(counter("ssl.ciphers." + cipher)).isEqualTo(1);
        assertThat(counter("ssl.no_certificate")).isEqualTo(1);
      });
    }
    assertThat(counter("ssl.connection_error")).isZero();
  }

  @Test
  void serverAlpnPreferenceAndNoOverlap() throws Exception {
    int port = start(DownstreamTlsContext.newBuilder().setCommonTlsContext(serverCommon().addAlpnProtocols("http/1.1")).build());
    SSLContext ctx = TestPki.jdkContext(null, null, PKI.caCert);
    try (SSLSocket s = connect(port, ctx, "server.test", "h2", "http/1.1")) {
      s.startHandshake();
      assertThat(readLine(s.getInputStream())).isEqualTo("server.test|tls|http/1.1");
    }
    // No common protocol: the connection goes on without ALPN (BoringSSL's NOACK), as Envoy.
    try (SSLSocket s = connect(port, ctx, "server.test", "h2")) {
      s.startHandshake();
      assertThat(readLine(s.getInputStream())).isEqualTo("server.test|tls|");
    }
  }

  @Test
  void tls12WithConfiguredCipherCountsItsOpenSslName() throws Exception {
    int port = start(DownstreamTlsContext.newBuilder().setCommonTlsContext(serverCommon().setTlsParams(TlsParameters.newBuilder()
        .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2)
        .addCipherSuites("[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]"))).build());
    try (SSLSocket s = connect(port, TestPki.jdkContext(null, null, PKI.caCert), "server.test")) {
      s.startHandshake();
      assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.2");
      assertThat(readLine(s.getInputStream())).isEqualTo("server.test|tls|");
      String expected = s.getSession().getCipherSuite().contains("CHACHA20") ? "ECDHE-ECDSA-CHACHA20-POLY1305" : "ECDHE-ECDSA-AES128-GCM-SHA256";
      await().untilAsserted(() -> {
        assertThat(counter("ssl.versions.TLSv1.2")).isEqualTo(1);
        assertThat(counter("ssl.ciphers." + expected)).isEqualTo(1);
      });
    }
  }

  @Test
  void requireClientCertificateRejectsNoneAndUntrustedAcceptsTrusted() throws Exception {
    int port = start(DownstreamTlsContext.newBuilder()
        .setRequireClientCertificate(BoolValue.of(true))
        .setCommonTlsContext(serverCommon().setValidationContext(trusting(PKI.caCert)))
        .build());
    assertThat(accepted(connect(port, TestPki.jdkContext(null, null, PKI.caCert), "server.test"))).isFalse();
    await().untilAsserted(() -> {
      assertThat(counter("ssl.fail_verify_no_cert")).isEqualTo(1);
      assertThat(counter("ssl.connection_error")).isEqualTo(1);
    });

    assertThat(accepted(connect(port, TestPki.jdkContext(PKI.rogueCert, PKI.rogueKey, PKI.caCert), "server.test"))).isFalse();
    await().untilAsserted(() -> {
      assertThat(counter("ssl.fail_verify_error")).isEqualTo(1);
      assertThat(counter("ssl.connection_error")).isEqualTo(2);
    });

    assertThat(accepted(connect(port, TestPki.jdkContext(PKI.clientCert, PKI.clientKey, PKI.caCert), "server.test"))).isTrue();
    await().untilAsserted(() -> assertThat(counter("ssl.handshake")).isEqualTo(1));
    assertThat(counter("ssl.no_certificate")).isZero();
  }

  @Test
  void subjectAltNameMatchersAcceptAndReject() throws Exception {
    SSLContext client = TestPki.jdkContext(PKI.clientCert, PKI.clientKey, PKI.caCert);
    int accepting = start(DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(serverCommon().setValidationContext(trusting(PKI.caCert)
            .addMatchTypedSubjectAltNames(san(SanType.DNS, exact("nobody.test")))
            .addMatchTypedSubjectAltNames(san(SanType.URI, exact(TestPki.CLIENT_SPIFFE)))))
        .build());
    assertThat(accepted(connect(accepting, client, "server.test"))).isTrue();

    int rejecting = start(DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(serverCommon().setValidationContext(trusting(PKI.caCert)
            .addMatchTypedSubjectAltNames(san(SanType.URI, prefix("spiffe://other.domain/")))))
        .build());
    assertThat(accepted(connect(rejecting, client, "server.test"))).isFalse();
    await().untilAsserted(() -> assertThat(counter("ssl.fail_verify_san")).isEqualTo(1));
    // Without a certificate it is optional (not required): the connection is accepted.
    assertThat(accepted(connect(rejecting, TestPki.jdkContext(null, null, PKI.caCert), "server.test"))).isTrue();
  }

  @Test
  void missingSdsSecretClosesConnectionsUntilItArrives() throws Exception {
    SdsSecretConfig ref = SdsSecretConfig.newBuilder().setName("default").build();
    int port = start(DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(CommonTlsContext.newBuilder().addTlsCertificateSdsSecretConfigs(ref)
            .setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                .setDefaultValidationContext(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext.newBuilder()
                    .addMatchSubjectAltNames(prefix("spiffe://cluster.local/ns/default/sa/client")))
                .setValidationContextSdsSecretConfig(SdsSecretConfig.newBuilder().setName("ROOTCA"))))
        .build());
    assertThat(secrets.subscribed).containsExactly("default", "ROOTCA");
    SSLContext client = TestPki.jdkContext(PKI.clientCert, PKI.clientKey, PKI.caCert);
    assertThat(accepted(connect(port, client, "server.test"))).isFalse();
    await().untilAsserted(() -> {
      assertThat(counter("server_ssl_socket_factory.downstream_context_secrets_not_ready")).isEqualTo(1);
      assertThat(counter("ssl.connection_error")).isEqualTo(1);
    });

    secrets.put(certificateSecret("default", PKI.serverCert, PKI.serverKey));
    assertThat(accepted(connect(port, client, "server.test"))).isFalse(); // ROOTCA still missing
    secrets.put(caSecret("ROOTCA", PKI.caCert));
    assertThat(counter("server_ssl_socket_factory.ssl_context_update_by_sds")).isEqualTo(1);
    assertThat(accepted(connect(port, client, "server.test"))).isTrue();
    // The merged context kept the default part's SAN matcher: another SPIFFE ID is refused.
    assertThat(accepted(connect(port, TestPki.jdkContext(PKI.serverCert, PKI.serverKey, PKI.caCert), "server.test"))).isFalse();
    await().untilAsserted(() -> assertThat(counter("ssl.fail_verify_san")).isEqualTo(1));
    secrets.put(caSecret("ROOTCA", PKI.otherCaCert));
    assertThat(accepted(connect(port, client, "server.test"))).isFalse();
    await().untilAsserted(() -> assertThat(counter("ssl.fail_verify_error")).isEqualTo(1));
  }

  @Test
  void configErrorsNameTheField() {
    assertThatThrownBy(() -> start(DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(serverCommon().setTlsParams(TlsParameters.newBuilder().addCipherSuites("NOT-A-CIPHER"))).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("filter_chains[0].transport_socket.typed_config.common_tls_context.tls_params.cipher_suites[0]");
    assertThatThrownBy(() -> start(DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(serverCommon().setValidationContext(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext.newBuilder()
            .addMatchTypedSubjectAltNames(san(SanType.DNS, exact("x"))))).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("without trusted CA is insecure");
    assertThatThrownBy(() -> start(DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(CommonTlsContext.newBuilder().addTlsCertificates(certificate(PKI.serverCert, PKI.clientKey))).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("common_tls_context.tls_certificates[0].private_key")
        .hasMessageContaining("does not match");
    assertThatThrownBy(() -> start(DownstreamTlsContext.newBuilder().setCommonTlsContext(CommonTlsContext.newBuilder()).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("No TLS certificates found for server context");
  }
}
