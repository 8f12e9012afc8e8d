package dev.sluice.tls;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Parses and checks the material of {@code Secret}s and {@code TlsCertificate}s (control thread). */
public final class TlsSecrets {
  private TlsSecrets() {}

  /**
   * Checks that a secret can be used: its certificate and key parse and belong together, its CA and
   * CRL parse. An SDS client calls this to NACK a bad secret. Expiry is not checked (Envoy loads
   * expired certificates).
   *
   * @throws ConfigException naming the field under {@code path}
   */
  public static void validate(Secret secret, String path) {
    switch (secret.getTypeCase()) {
      case TLS_CERTIFICATE -> load(secret.getTlsCertificate(), path + ".tls_certificate");
      case VALIDATION_CONTEXT -> PeerCertificateVerifier.parseTrust(secret.getValidationContext(), path + ".validation_context");
      case SESSION_TICKET_KEYS, GENERIC_SECRET -> {
        // Not used by the TLS contexts (session ticket keys are ignored, see DownstreamTlsConfig).
      }
      case TYPE_NOT_SET -> throw new ConfigException(path, "a secret needs tls_certificate, validation_context, session_ticket_keys or generic_secret");
    }
  }

  /** Loads a certificate chain and its key, checking that they match. */
  static CertifiedKey load(TlsCertificate c, String path) {
    if (c.hasPrivateKeyProvider()) {
      throw new ConfigException(path + ".private_key_provider", "private key providers are not supported");
    }
    char @Nullable [] password = DataSources.isSet(c.getPassword())
        ? new String(DataSources.read(c.getPassword(), path + ".password"), StandardCharsets.UTF_8).toCharArray()
        : null;
    CertifiedKey key;
    if (DataSources.isSet(c.getPkcs12())) {
      if (DataSources.isSet(c.getCertificateChain()) || DataSources.isSet(c.getPrivateKey())) {
        throw new ConfigException(path + ".pkcs12", "pkcs12 cannot be combined with certificate_chain or private_key");
      }
      key = pkcs12(DataSources.read(c.getPkcs12(), path + ".pkcs12"), password, path + ".pkcs12");
    } else {
      if (!DataSources.isSet(c.getCertificateChain())) {
        throw new ConfigException(path + ".certificate_chain", "a certificate chain is required");
      }
      if (!DataSources.isSet(c.getPrivateKey())) {
        throw new ConfigException(path + ".private_key", "a private key is required");
      }
      List<X509Certificate> chain = Pem.certificates(DataSources.read(c.getCertificateChain(), path + ".certificate_chain"), path + ".certificate_chain");
      PrivateKey pk = Pem.privateKey(DataSources.read(c.getPrivateKey(), path + ".private_key"), password, path + ".private_key");
      key = new CertifiedKey(chain, pk);
    }
    if (!matches(key.key(), key.chain().get(0).getPublicKey())) {
      throw new ConfigException(path + ".private_key", "the private key does not match the certificate's public key");
    }
    return key;
  }

  private static CertifiedKey pkcs12(byte[] bytes, char @Nullable [] password, String path) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      char[] pw = password == null ? new char[0] : password;
      ks.load(new ByteArrayInputStream(bytes), pw);
      for (String alias : Collections.list(ks.aliases())) {
        Key k = ks.getKey(alias, pw);
        Certificate[] chain = ks.getCertificateChain(alias);
        if (k instanceof PrivateKey pk && chain != null && chain.length > 0) {
          return new CertifiedKey(Arrays.stream(chain).map(X509Certificate.class::cast).toList(), pk);
        }
      }
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new ConfigException(path, "failed to load pkcs12: " + e.getMessage(), e);
    }
    throw new ConfigException(path, "failed to load pkcs12: no private key entry with a certificate chain");
  }

  /** Signs and verifies a probe: the cheapest algorithm-independent key/certificate pairing check. */
  private static boolean matches(PrivateKey key, PublicKey pub) {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> null;
    };
    if (alg == null) {
      return true; // RSASSA-PSS and others: left to the TLS library
    }
    try {
      byte[] probe = "sluice key pairing probe".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(pub);
      v.update(probe);
      return v.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
