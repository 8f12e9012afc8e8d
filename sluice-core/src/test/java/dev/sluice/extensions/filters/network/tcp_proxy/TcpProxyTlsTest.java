package dev.sluice.extensions.filters.network.tcp_proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.Openssl;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Random;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tcp_proxy behind a TLS listener (a full server): the backend's close reaches the TLS client as the
 * end of its stream once the data is through, not after a timeout.
 */
class TcpProxyTlsTest {
  @TempDir Path dir;

  @Test
  void backendCloseEndsTheTlsClientsStreamAfterItsData() throws Exception {
    Openssl.run(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
        "-out", "server.crt", "-subj", "/CN=proxy", "-days", "2", "-addext", "subjectAltName=IP:127.0.0.1");
    // More than the socket buffers hold, so the close comes while the proxy still relays.
    byte[] answer = new byte[4 * 1024 * 1024];
    new Random(7).nextBytes(answer);
    try (ServerSocket backend = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread.ofVirtual().start(() -> {
        try (Socket s = backend.accept()) {
          s.getInputStream().readNBytes(5);
          s.getOutputStream().write(answer);
        } catch (IOException ignored) {
          // the assertions below tell
        }
      });
      try (Server server = TestServers.start("""
          static_resources:
            clusters:
            - name: app
              type: STATIC
              load_assignment:
                cluster_name: app
                endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %1$d}}}}]}]
            listeners:
            - name: tls
              address: {socket_address: {address: 127.0.0.1, port_value: 0}}
              filter_chains:
              - transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                    common_tls_context:
                      tls_certificates: [{certificate_chain: {filename: '%2$s/server.crt'}, private_key: {filename: '%2$s/server.key'}}]
                filters:
                - name: envoy.filters.network.tcp_proxy
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: app, cluster: app}
          """.formatted(backend.getLocalPort(), dir))) {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(dir.resolve("server.crt"))) {
          trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", server.listenerPort("tls"))) {
          // A read still blocked after this long means the proxy kept the client's stream open.
          s.setSoTimeout(5_000);
          OutputStream out = s.getOutputStream();
          out.write("hello".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          assertThat(s.getInputStream().readAllBytes()).isEqualTo(answer);
        }
      }
    }
  }
}
