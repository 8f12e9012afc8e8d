package dev.sluice.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/** A certificate chain (leaf first) and its private key, parsed from a {@code TlsCertificate}. */
record CertifiedKey(List<X509Certificate> chain, PrivateKey key) {
  CertifiedKey {
    chain = List.copyOf(chain);
  }
}
