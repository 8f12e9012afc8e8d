package dev.sluice.tls;

import io.netty.handler.ssl.SslHandler;
import java.nio.channels.ClosedChannelException;
import java.security.cert.Certificate;
import java.util.Locale;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/** Counts the end of one handshake in {@link TlsStats}, as Envoy's SSL socket logs it. */
final class HandshakeOutcome {
  private HandshakeOutcome() {}

  /** A completed handshake: {@code handshake}, the version and cipher, {@code no_certificate}. */
  static void succeeded(TlsStats stats, SslHandler handler) {
    SSLSession session = handler.engine().getSession();
    stats.handshake.inc();
    stats.version(session.getProtocol());
    stats.cipher(session.getCipherSuite());
    if (peerCertificate(session) == null) {
      stats.noCertificate.inc();
    }
  }

  /**
   * A failed handshake. The verifier has already counted a rejected certificate; a client that sent
   * none where one is required counts {@code fail_verify_no_cert}. A peer that merely closed the
   * connection during the handshake is no TLS error (Envoy counts {@code connection_error} only
   * when the TLS library reports one).
   */
  static void failed(TlsStats stats, Throwable cause, boolean clientCertificateRequired) {
    if (cause instanceof ClosedChannelException || messageContains(cause, "connection closed")) {
      return;
    }
    if (clientCertificateRequired && isMissingPeerCertificate(cause)) {
      stats.failVerifyNoCert.inc();
    }
    stats.connectionError.inc();
  }

  static @Nullable Certificate peerCertificate(SSLSession session) {
    try {
      Certificate[] certs = session.getPeerCertificates();
      return certs.length == 0 ? null : certs[0];
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  /** BoringSSL: PEER_DID_NOT_RETURN_A_CERTIFICATE; the JDK: "Empty client certificate chain". */
  private static boolean isMissingPeerCertificate(Throwable cause) {
    return messageContains(cause, "peer_did_not_return_a_certificate") || messageContains(cause, "empty client certificate chain")
        || messageContains(cause, "certificate_required");
  }

  private static boolean messageContains(Throwable t, String lowerCaseText) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      String m = c.getMessage();
      if (m != null && m.toLowerCase(Locale.ROOT).contains(lowerCaseText)) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }
}
