package dev.sluice.tls;

import org.jspecify.annotations.Nullable;

/**
 * What a context is built from once its secrets are known: the own certificate (null for a client
 * without one) and the peer verifier of the merged validation context.
 */
record TlsMaterial(@Nullable CertifiedKey certificate, PeerCertificateVerifier verifier) {}
