package dev.sluice.tls;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import dev.sluice.testing.Openssl;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Test certificates, generated once per test JVM with the {@code openssl} command line (BouncyCastle's
 * certificate builder is not available offline, and Netty's SelfSignedCertificate needs it or JDK
 * internals on JDK 25). Two CAs; leaves in the three key formats Envoy reads (SEC1 EC, PKCS#8 EC,
 * PKCS#1 RSA); one leaf expired in 2020.
 */
final class TestPki {
  static final String SERVER_SPIFFE = "spiffe://cluster.local/ns/default/sa/server";
  static final String CLIENT_SPIFFE = "spiffe://cluster.local/ns/default/sa/client";

  private static TestPki instance;

  final Path dir;
  final String caCert;
  final String otherCaCert;
  /** SANs: DNS server.test and *.wild.test, URI {@link #SERVER_SPIFFE}, IP 127.0.0.1, email ops@server.test; PKCS#8 EC key. */
  final String serverCert;
  final String serverKey;
  /** SAN URI {@link #CLIENT_SPIFFE}; PKCS#1 RSA key (Istio's format). */
  final String clientCert;
  final String clientKey;
  /** Signed by the other CA; SAN URI {@link #CLIENT_SPIFFE}; SEC1 EC key. */
  final String rogueCert;
  final String rogueKey;
  /** Valid 2020-01-01 to 2020-01-02, signed by the CA; SEC1 EC key. */
  final String expiredCert;
  final String expiredKey;

  static synchronized TestPki get() {
    if (instance == null) {
      try {
        instance = new TestPki(Files.createTempDirectory("sluice-tls-pki"));
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("cannot generate test certificates with openssl", e);
      }
    }
    return instance;
  }

  private TestPki(Path dir) throws IOException, InterruptedException {
    this.dir = dir;
    ca("ca", "sluice-test-ca");
    ca("other-ca", "sluice-other-ca");
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "server.key");
    leaf("server", "ca", "subjectAltName=DNS:server.test,DNS:*.wild.test,URI:" + SERVER_SPIFFE + ",IP:127.0.0.1,email:ops@server.test");
    openssl("genrsa", "-traditional", "-out", "client.key", "2048");
    leaf("client", "ca", "subjectAltName=URI:" + CLIENT_SPIFFE);
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "rogue.key");
    leaf("rogue", "other-ca", "subjectAltName=URI:" + CLIENT_SPIFFE);
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "expired.key");
    expired();
    caCert = read("ca.crt");
    otherCaCert = read("other-ca.crt");
    serverCert = read("server.crt");
    serverKey = read("server.key");
    clientCert = read("client.crt");
    clientKey = read("client.key");
    rogueCert = read("rogue.crt");
    rogueKey = read("rogue.key");
    expiredCert = read("expired.crt");
    expiredKey = read("expired.key");
  }

  private void ca(String name, String org) throws IOException, InterruptedException {
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name + ".key");
    openssl("req", "-x509", "-new", "-key", name + ".key", "-subj", "/O=" + org, "-days", "3650", "-out", name + ".crt",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  }

  private void leaf(String name, String ca, String san) throws IOException, InterruptedException {
    Files.writeString(dir.resolve(name + ".ext"), san + "\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n");
    openssl("req", "-new", "-key", name + ".key", "-subj", "/CN=" + name, "-out", name + ".csr");
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-set_serial", String.valueOf(System.nanoTime()),
        "-days", "365", "-sha256", "-extfile", name + ".ext", "-out", name + ".crt");
  }

  /** {@code openssl x509} cannot back-date; {@code openssl ca} takes explicit dates. */
  private void expired() throws IOException, InterruptedException {
    Files.writeString(dir.resolve("index.txt"), "");
    Files.writeString(dir.resolve("serial"), "1000\n");
    Files.writeString(dir.resolve("ca.cnf"), String.join("\n",
        "[ca]", "default_ca = d", "[d]", "database = " + dir.resolve("index.txt"), "new_certs_dir = " + dir,
        "serial = " + dir.resolve("serial"), "default_md = sha256", "policy = p", "unique_subject = no",
        "[p]", "commonName = supplied", "") );
    Files.writeString(dir.resolve("expired.ext"), "subjectAltName=URI:" + SERVER_SPIFFE + "\nextendedKeyUsage=serverAuth,clientAuth\n");
    openssl("req", "-new", "-key", "expired.key", "-subj", "/CN=expired", "-out", "expired.csr");
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "expired.csr", "-out", "expired.crt",
        "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-extfile", "expired.ext", "-notext");
  }

  private void openssl(String... args) throws IOException, InterruptedException {
    Openssl.run(dir, args);
  }

  private String read(String file) throws IOException {
    return Files.readString(dir.resolve(file));
  }

  static List<X509Certificate> certs(String pem) {
    return Pem.certificates(pem.getBytes(StandardCharsets.US_ASCII), "test");
  }

  static PrivateKey key(String pem) {
    return Pem.privateKey(pem.getBytes(StandardCharsets.US_ASCII), null, "test");
  }

  /** A JDK SSLContext presenting {@code certPem}/{@code keyPem} (when not null) and trusting {@code caPem}. */
  static SSLContext jdkContext(String certPem, String keyPem, String caPem) throws Exception {
    KeyManagerFactory kmf = null;
    if (certPem != null) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("me", key(keyPem), new char[0], certs(certPem).toArray(new X509Certificate[0]));
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, new char[0]);
    }
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("ca", certs(caPem).get(0));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : new KeyManager[] {new AlwaysPresent((X509ExtendedKeyManager) kmf.getKeyManagers()[0])}, tmf.getTrustManagers(), null);
    return ctx;
  }

  /** Presents its one certificate whatever CAs the server names, so tests can send untrusted ones. */
  private static final class AlwaysPresent extends X509ExtendedKeyManager {
    private final X509ExtendedKeyManager delegate;

    AlwaysPresent(X509ExtendedKeyManager delegate) {
      this.delegate = delegate;
    }

    @Override
    public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
      return new String[] {"me"};
    }

    @Override
    public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, java.net.Socket socket) {
      return "me";
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, java.security.Principal[] issuers, SSLEngine engine) {
      return "me";
    }

    @Override
    public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
      return new String[] {"me"};
    }

    @Override
    public String chooseServerAlias(String keyType, java.security.Principal[] issuers, java.net.Socket socket) {
      return "me";
    }

    @Override
    public String chooseEngineServerAlias(String keyType, java.security.Principal[] issuers, SSLEngine engine) {
      return "me";
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return delegate.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return delegate.getPrivateKey(alias);
    }
  }
}
