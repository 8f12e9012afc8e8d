package dev.sluice.tls;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CertificateException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.X509CRL;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's default certificate validator for one (merged) {@code CertificateValidationContext}: the
 * chain against {@code trusted_ca} (with {@code crl}), then the SANs against
 * {@code match_typed_subject_alt_names}, then {@code verify_certificate_hash}/{@code _spki}. Each
 * failure counts its {@code ssl.fail_verify_*} stat and fails the handshake unless
 * {@code trust_chain_verification: ACCEPT_UNTRUSTED}. Without a CA the chain is not verified (as
 * Envoy: a presented certificate is then accepted). Hostnames are never checked against SNI: the
 * SAN matchers are the only name check, as in Envoy. Shared by every connection of a context.
 */
final class PeerCertificateVerifier extends X509ExtendedTrustManager {
  private final @Nullable X509TrustManager chain;
  private final List<SanMatcher> sans;
  private final Set<String> certificateHashes;
  private final Set<String> spkiHashes;
  private final boolean acceptUntrusted;
  private final TlsStats stats;
  private final X509Certificate[] acceptedIssuers;

  private PeerCertificateVerifier(
      @Nullable X509TrustManager chain,
      List<SanMatcher> sans,
      Set<String> certificateHashes,
      Set<String> spkiHashes,
      boolean acceptUntrusted,
      TlsStats stats,
      X509Certificate[] acceptedIssuers) {
    this.chain = chain;
    this.sans = sans;
    this.certificateHashes = certificateHashes;
    this.spkiHashes = spkiHashes;
    this.acceptUntrusted = acceptUntrusted;
    this.stats = stats;
    this.acceptedIssuers = acceptedIssuers;
  }

  /** The parsed {@code trusted_ca} and {@code crl} of a validation context. */
  record Trust(List<X509Certificate> anchors, List<X509CRL> crls) {}

  static Trust parseTrust(CertificateValidationContext v, String path) {
    List<X509Certificate> anchors = DataSources.isSet(v.getTrustedCa())
        ? Pem.certificates(DataSources.read(v.getTrustedCa(), path + ".trusted_ca"), path + ".trusted_ca")
        : List.of();
    List<X509CRL> crls = DataSources.isSet(v.getCrl())
        ? Pem.crls(DataSources.read(v.getCrl(), path + ".crl"), path + ".crl")
        : List.of();
    return new Trust(anchors, crls);
  }

  /**
   * Compiles a validation context (already merged with its SDS part).
   *
   * @throws ConfigException naming the field under {@code path}
   */
  static PeerCertificateVerifier compile(CertificateValidationContext v, String path, TlsStats stats) {
    if (v.hasCustomValidatorConfig()) {
      throw new ConfigException(path + ".custom_validator_config", "custom certificate validators are not supported");
    }
    if (v.hasCaCertificateProviderInstance()) {
      throw new ConfigException(path + ".ca_certificate_provider_instance", "certificate provider instances are not supported");
    }
    Trust trust = parseTrust(v, path);
    List<SanMatcher> sans = SanMatcher.compile(v, path);
    if (!sans.isEmpty() && trust.anchors().isEmpty()) {
      // As Envoy: SANs are easily spoofed without a trusted chain.
      throw new ConfigException(path, "SAN-based verification of peer certificates without trusted CA is insecure and not allowed");
    }
    if (!trust.crls().isEmpty() && trust.anchors().isEmpty()) {
      throw new ConfigException(path + ".crl", "Failed to load CRL from <inline> without trusted CA");
    }
    Set<String> hashes = new HashSet<>();
    for (int i = 0; i < v.getVerifyCertificateHashCount(); i++) {
      String h = v.getVerifyCertificateHash(i).replace(":", "").toLowerCase(java.util.Locale.ROOT);
      if (h.length() != 64 || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
        throw new ConfigException(path + ".verify_certificate_hash[" + i + "]", "Invalid hex-encoded SHA-256 " + v.getVerifyCertificateHash(i));
      }
      hashes.add(h);
    }
    Set<String> spkis = new HashSet<>();
    for (int i = 0; i < v.getVerifyCertificateSpkiCount(); i++) {
      String s = v.getVerifyCertificateSpki(i);
      byte[] decoded;
      try {
        decoded = Base64.getDecoder().decode(s);
      } catch (IllegalArgumentException e) {
        decoded = new byte[0];
      }
      if (decoded.length != 32) {
        throw new ConfigException(path + ".verify_certificate_spki[" + i + "]", "Invalid base64-encoded SHA-256 " + s);
      }
      spkis.add(HexFormat.of().formatHex(decoded));
    }
    X509TrustManager chain = trust.anchors().isEmpty() ? null
        : chainVerifier(trust, v.getOnlyVerifyLeafCertCrl(), v.hasMaxVerifyDepth() ? v.getMaxVerifyDepth().getValue() : -1, path);
    boolean acceptUntrusted = v.getTrustChainVerification() == CertificateValidationContext.TrustChainVerification.ACCEPT_UNTRUSTED;
    return new PeerCertificateVerifier(chain, sans, Set.copyOf(hashes), Set.copyOf(spkis), acceptUntrusted, stats,
        trust.anchors().toArray(new X509Certificate[0]));
  }

  /** PKIX over the trusted CAs; any of them may be an anchor (Envoy sets X509_V_FLAG_PARTIAL_CHAIN). */
  private static X509TrustManager chainVerifier(Trust trust, boolean onlyLeafCrl, int maxDepth, String path) {
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      for (int i = 0; i < trust.anchors().size(); i++) {
        ks.setCertificateEntry("ca-" + i, trust.anchors().get(i));
      }
      PKIXBuilderParameters params = new PKIXBuilderParameters(ks, new X509CertSelector());
      if (maxDepth >= 0) {
        // Envoy's depth counts the anchor but not the leaf; PKIX counts neither.
        params.setMaxPathLength(Math.max(0, maxDepth - 1));
      }
      if (trust.crls().isEmpty()) {
        params.setRevocationEnabled(false);
      } else {
        params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(new ArrayList<>(trust.crls()))));
        PKIXRevocationChecker rc = (PKIXRevocationChecker) CertPathBuilder.getInstance("PKIX").getRevocationChecker();
        EnumSet<PKIXRevocationChecker.Option> options = EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK);
        if (onlyLeafCrl) {
          options.add(PKIXRevocationChecker.Option.ONLY_END_ENTITY);
        }
        rc.setOptions(options);
        params.addCertPathChecker(rc);
        params.setRevocationEnabled(true);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(new CertPathTrustManagerParameters(params));
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          return x;
        }
      }
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new ConfigException(path + ".trusted_ca", "failed to build the trust store: " + e.getMessage(), e);
    }
    throw new ConfigException(path + ".trusted_ca", "no X.509 trust manager available");
  }

  /** Whether a server should ask the client for a certificate (there is something to verify). */
  boolean verifiesAnything() {
    return chain != null || !sans.isEmpty() || !certificateHashes.isEmpty() || !spkiHashes.isEmpty();
  }

  private void verify(X509Certificate[] peer, String authType, boolean client) throws CertificateException {
    if (peer == null || peer.length == 0) {
      throw new CertificateException("no peer certificate");
    }
    if (chain != null) {
      try {
        if (client) {
          chain.checkClientTrusted(peer, authType);
        } else {
          chain.checkServerTrusted(peer, authType);
        }
      } catch (CertificateException e) {
        stats.failVerifyError.inc();
        if (!acceptUntrusted) {
          throw e;
        }
      }
    }
    if (!sans.isEmpty() && !SanMatcher.anyMatches(sans, peer[0])) {
      stats.failVerifySan.inc();
      if (!acceptUntrusted) {
        throw new CertificateException("certificate SAN does not match any configured matcher");
      }
    }
    if ((!certificateHashes.isEmpty() || !spkiHashes.isEmpty()) && !hashMatches(peer[0])) {
      stats.failVerifyCertHash.inc();
      if (!acceptUntrusted) {
        throw new CertificateException("certificate hash does not match verify_certificate_hash/spki");
      }
    }
  }

  private boolean hashMatches(X509Certificate cert) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      if (!certificateHashes.isEmpty() && certificateHashes.contains(HexFormat.of().formatHex(sha.digest(cert.getEncoded())))) {
        return true;
      }
      return !spkiHashes.isEmpty() && spkiHashes.contains(HexFormat.of().formatHex(sha.digest(cert.getPublicKey().getEncoded())));
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    verify(chain, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    verify(chain, authType, false);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    verify(chain, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    verify(chain, authType, false);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    verify(chain, authType, true);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    verify(chain, authType, false);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return acceptedIssuers.clone();
  }
}
