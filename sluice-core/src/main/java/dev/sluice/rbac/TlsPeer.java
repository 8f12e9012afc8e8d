package dev.sluice.rbac;

import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * The identities of a TLS connection, read once from its session: the peer certificate's URI and
 * DNS SANs and subject (RFC 2253; empty when the peer sent no certificate), and the local
 * certificate's first URI SAN.
 */
public record TlsPeer(List<String> uriSans, List<String> dnsSans, String subject, @Nullable String localUriSan) {
  private static final int DNS = 2;
  private static final int URI = 6;

  public static TlsPeer of(SSLSession session) {
    X509Certificate peer = null;
    try {
      Certificate[] certs = session.getPeerCertificates();
      if (certs.length > 0 && certs[0] instanceof X509Certificate x) {
        peer = x;
      }
    } catch (SSLPeerUnverifiedException e) {
      // no client certificate: principals by name do not match
    }
    X509Certificate local = null;
    Certificate[] locals = session.getLocalCertificates();
    if (locals != null && locals.length > 0 && locals[0] instanceof X509Certificate x) {
      local = x;
    }
    List<String> localUris = local == null ? List.of() : sans(local, URI);
    return new TlsPeer(peer == null ? List.of() : sans(peer, URI), peer == null ? List.of() : sans(peer, DNS),
        peer == null ? "" : peer.getSubjectX500Principal().getName(), localUris.isEmpty() ? null : localUris.getFirst());
  }

  private static List<String> sans(X509Certificate cert, int type) {
    Collection<List<?>> all;
    try {
      all = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return List.of();
    }
    if (all == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (List<?> san : all) {
      if (san.size() >= 2 && san.get(0) instanceof Integer t && t == type && san.get(1) instanceof String s) {
        out.add(s);
      }
    }
    return List.copyOf(out);
  }

  /** The first URI SAN of the peer, as Istio's {@code istio_authn} publishes it, or null. */
  public @Nullable String peerPrincipal() {
    return uriSans.isEmpty() ? null : uriSans.getFirst();
  }
}
