package dev.sluice.extensions.filters.network.rbac;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.Openssl;
import dev.sluice.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The network RBAC filter in front of {@code tcp_proxy}, through a full server to a real backend:
 * on an mTLS chain Istio's policy shape (the {@code io.istio.peer_principal} filter state, i.e. the
 * client certificate's URI SAN) lets the {@code sleep} workload through and closes the connection of
 * any other; on a plaintext chain {@code authenticated} never matches. Stats {@code tcp.rbac.*}.
 */
class RbacNetworkIntegrationTest {
  private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";
  private static final String OTHER = "spiffe://cluster.local/ns/default/sa/other";
  private static final String BACKEND_BODY = "ok GET /through";
  @TempDir static Path dir;
  private static TestBackend backend;
  private static Server server;

  private static void leaf(String name, String san) throws Exception {
    Openssl.run(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
        "-out", name + ".csr", "-subj", "/CN=" + name);
    Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=" + san + "\n");
    Openssl.run(dir, "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext");
    Openssl.run(dir, "pkcs12", "-export", "-in", name + ".crt", "-inkey", name + ".key", "-out", name + ".p12", "-passout", "pass:pw");
  }

  @BeforeAll
  static void start() throws Exception {
    Openssl.run(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
        "-out", "ca.crt", "-subj", "/CN=ca", "-days", "2");
    leaf("server", "URI:spiffe://cluster.local/ns/default/sa/app,IP:127.0.0.1");
    leaf("sleep", "URI:" + SLEEP);
    leaf("other", "URI:" + OTHER);
    backend = new TestBackend("app");
    String tcpProxy = """
              - name: envoy.filters.network.tcp_proxy
                typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: app, cluster: app}
        """;
    server = TestServers.start("""
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: app
            type: STATIC
            load_assignment:
              cluster_name: app
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %1$d}}}}]}]
          listeners:
          - name: mtls
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: true
                  common_tls_context:
                    tls_certificates: [{certificate_chain: {filename: '%2$s/server.crt'}, private_key: {filename: '%2$s/server.key'}}]
                    validation_context: {trusted_ca: {filename: '%2$s/ca.crt'}}
              filters:
              - name: envoy.filters.network.rbac
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                  stat_prefix: tcp.
                  rules:
                    policies:
                      ns[default]-policy[app]-rule[0]:
                        permissions: [{and_rules: {rules: [{any: true}]}}]
                        principals: [{and_ids: {ids: [{or_ids: {ids: [{filter_state: {key: io.istio.peer_principal, string_match: {exact: "%3$s"}}}]}}]}}]
        %4$s
          - name: plain
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.rbac
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
                  stat_prefix: plain
                  shadow_rules: {action: DENY, policies: {all: {permissions: [{any: true}], principals: [{any: true}]}}}
                  shadow_rules_stat_prefix: dry_
                  rules:
                    policies:
                      mtls-only: {permissions: [{any: true}], principals: [{authenticated: {}}]}
        %4$s""".formatted(backend.port(), dir, SLEEP, tcpProxy));
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  private static SSLContext client(String name) throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(dir.resolve(name + ".p12"))) {
      keys.load(in, "pw".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, "pw".toCharArray());
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(dir.resolve("ca.crt"))) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  /** Sends one HTTP/1.1 request through the TCP proxy; returns what came back before the close (empty if refused). */
  private static String exchange(Socket s) throws IOException {
    s.setSoTimeout(10_000);
    s.getOutputStream().write("GET /through HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      InputStream in = s.getInputStream();
      // Until the backend's whole answer is in, or the proxy closes (a refusal).
      for (int n; !got.toString(StandardCharsets.UTF_8).endsWith(BACKEND_BODY) && (n = in.read(buf)) >= 0; ) {
        got.write(buf, 0, n);
      }
    } catch (IOException closedByPeer) {
      // a reset after a refusal is a refusal too
    }
    return got.toString(StandardCharsets.UTF_8);
  }

  private static long counter(String name) {
    return server.stats().counter(name).value();
  }

  @Test
  void thePeerPrincipalOfTheClientCertificateDecides() throws Exception {
    int port = server.listenerPort("mtls");
    long allowed = counter("tcp.rbac.allowed");
    long denied = counter("tcp.rbac.denied");
    try (SSLSocket s = (SSLSocket) client("sleep").getSocketFactory().createSocket("127.0.0.1", port)) {
      assertThat(exchange(s)).startsWith("HTTP/1.1 200").endsWith(BACKEND_BODY);
    }
    int served = backend.requests.get();
    try (SSLSocket s = (SSLSocket) client("other").getSocketFactory().createSocket("127.0.0.1", port)) {
      assertThat(exchange(s)).isEmpty();
    }
    assertThat(counter("tcp.rbac.allowed")).isEqualTo(allowed + 1);
    assertThat(counter("tcp.rbac.denied")).isEqualTo(denied + 1);
    assertThat(backend.requests.get()).isEqualTo(served);
  }

  @Test
  void plaintextIsNotAuthenticatedAndShadowRulesOnlyCount() throws Exception {
    long denied = counter("plain.rbac.denied");
    long shadowDenied = counter("plain.rbac.dry_shadow_denied");
    try (Socket s = new Socket("127.0.0.1", server.listenerPort("plain"))) {
      assertThat(exchange(s)).isEmpty();
    }
    assertThat(counter("plain.rbac.denied")).isEqualTo(denied + 1);
    assertThat(counter("plain.rbac.dry_shadow_denied")).isEqualTo(shadowDenied + 1);
  }
}
