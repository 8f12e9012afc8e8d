package dev.sluice.it.protocol;

import java.io.IOException;
import java.nio.file.Files;
import dev.sluice.testing.Openssl;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A test CA and two leaves made with the {@code openssl} command once per JVM, as PEM files (curl
 * and the proxy config read files): the proxy's certificate (DNS {@value #PROXY_HOST}, IP
 * 127.0.0.1) and the backend's (DNS {@value #BACKEND_HOST}, IP 127.0.0.1).
 */
final class MatrixPki {
  static final String PROXY_HOST = "matrix.test";
  static final String BACKEND_HOST = "backend.test";

  private static MatrixPki instance;

  final Path dir;
  final Path caCert;
  final Path proxyCert;
  final Path proxyKey;
  final Path backendCert;
  final Path backendKey;

  static synchronized MatrixPki get() {
    if (instance == null) {
      try {
        instance = new MatrixPki(Files.createTempDirectory("sluice-matrix-pki"));
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("cannot generate test certificates with openssl", e);
      }
    }
    return instance;
  }

  private MatrixPki(Path dir) throws IOException, InterruptedException {
    this.dir = dir;
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key");
    openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/O=sluice-matrix-ca", "-days", "3650", "-out", "ca.crt",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    leaf("proxy", PROXY_HOST);
    leaf("backend", BACKEND_HOST);
    caCert = dir.resolve("ca.crt");
    proxyCert = dir.resolve("proxy.crt");
    proxyKey = dir.resolve("proxy.key");
    backendCert = dir.resolve("backend.crt");
    backendKey = dir.resolve("backend.key");
  }

  /** A PKCS#8 EC key (what both Netty's JDK provider and Sluice read) and a CA-signed certificate. */
  private void leaf(String name, String dns) throws IOException, InterruptedException {
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + ".key");
    Files.writeString(dir.resolve(name + ".ext"),
        "subjectAltName=DNS:" + dns + ",IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n");
    openssl("req", "-new", "-key", name + ".key", "-subj", "/CN=" + name, "-out", name + ".csr");
    openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", String.valueOf(System.nanoTime()),
        "-days", "365", "-sha256", "-extfile", name + ".ext", "-out", name + ".crt");
  }

  private void openssl(String... args) throws IOException, InterruptedException {
    Openssl.run(dir, args);
  }

  /** A JDK client context trusting only the test CA. */
  SSLContext clientContext() {
    try {
      X509Certificate ca;
      try (var in = Files.newInputStream(caCert)) {
        ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      }
      KeyStore ts = KeyStore.getInstance("PKCS12");
      ts.load(null, null);
      ts.setCertificateEntry("ca", ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ts);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
