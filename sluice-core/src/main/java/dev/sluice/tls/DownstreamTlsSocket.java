package dev.sluice.tls;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.NetworkFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.util.List;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A filter chain's {@code DownstreamTlsContext}: puts a server {@link SslHandler} at the head of each
 * connection's pipeline (the listener then fires {@code channelActive} and replays the peeked bytes
 * through it). When the handshake completes the connection learns {@code transportProtocol = "tls"},
 * the negotiated ALPN protocol and the SNI; the HTTP connection manager picks its codec from
 * {@link SslHandler#applicationProtocol()}.
 *
 * <p>Not supported, accepted and ignored: {@code session_ticket_keys} (and their SDS form, and
 * {@code disable_stateless_session_resumption}: BoringSSL manages ticket keys itself, so sessions
 * do not resume across restarts or hosts), {@code require_sni}, {@code ocsp_staple_policy},
 * {@code full_scan_certs_on_sni_mismatch}, {@code prefer_client_ciphers}; with several
 * certificates only the first is served.
 */
final class DownstreamTlsSocket implements NetworkFilter {
  private static final Logger log = LoggerFactory.getLogger(DownstreamTlsSocket.class);

  private final Source source;
  private final TlsStats stats;
  private final boolean requireClientCertificate;

  private DownstreamTlsSocket(Source source, TlsStats stats, boolean requireClientCertificate) {
    this.source = source;
    this.stats = stats;
    this.requireClientCertificate = requireClientCertificate;
  }

  /** @throws ConfigException naming the field under {@code path} */
  static DownstreamTlsSocket compile(DownstreamTlsContext config, SecretProvider secrets, TlsStats stats, String path) {
    if (config.getSessionTicketKeysTypeCase() != DownstreamTlsContext.SessionTicketKeysTypeCase.SESSIONTICKETKEYSTYPE_NOT_SET) {
      log.info("{}: session ticket key settings are ignored (BoringSSL manages ticket keys)", path);
    }
    boolean require = config.getRequireClientCertificate().getValue();
    long sessionTimeoutSeconds = config.hasSessionTimeout() ? config.getSessionTimeout().getSeconds() : 0;
    Source source = new Source(config, secrets, stats, path + ".common_tls_context", require, sessionTimeoutSeconds);
    source.start(true);
    return new DownstreamTlsSocket(source, stats, require);
  }

  /** False while a secret the context needs is missing (Envoy's warming state). */
  boolean ready() {
    return source.current() != null;
  }

  @Override
  public void install(DownstreamConnection connection) {
    SslContext ssl = source.current();
    if (ssl == null) {
      stats.secretsNotReady.inc();
      stats.connectionError.inc();
      connection.channel.pipeline().addLast("sluice-tls-not-ready", new NotReadyHandler(source.notReadyReason()));
      return;
    }
    SslHandler handler = ssl.newHandler(connection.channel.alloc());
    connection.channel.pipeline().addLast("sluice-tls", handler).addLast("sluice-tls-errors", TlsErrorHandler.INSTANCE);
    handler.handshakeFuture().addListener(f -> {
      if (f.isSuccess()) {
        onHandshake(connection, handler);
      } else {
        HandshakeOutcome.failed(stats, f.cause(), requireClientCertificate);
      }
    });
  }

  /** Runs on the connection's loop before the handshake event reaches the network filters. */
  private void onHandshake(DownstreamConnection connection, SslHandler handler) {
    HandshakeOutcome.succeeded(stats, handler);
    connection.transportProtocol = "tls";
    String alpn = handler.applicationProtocol();
    connection.applicationProtocols = alpn == null ? List.of() : List.of(alpn);
    if (connection.serverName == null) {
      connection.serverName = requestedServerName(handler.engine().getSession());
      connection.streamInfo.requestedServerName = connection.serverName;
    }
  }

  private static @org.jspecify.annotations.Nullable String requestedServerName(SSLSession session) {
    if (session instanceof ExtendedSSLSession ext) {
      for (SNIServerName name : ext.getRequestedServerNames()) {
        if (name instanceof SNIHostName host) {
          return host.getAsciiName();
        }
      }
    }
    return null;
  }

  /** The server SslContext of the current material. */
  private static final class Source extends TlsContextSource<SslContext> {
    private final boolean requireClientCertificate;
    private final long sessionTimeoutSeconds;

    Source(DownstreamTlsContext config, SecretProvider secrets, TlsStats stats, String path, boolean requireClientCertificate, long sessionTimeoutSeconds) {
      super(config.getCommonTlsContext(), true, secrets, stats, path);
      this.requireClientCertificate = requireClientCertificate;
      this.sessionTimeoutSeconds = sessionTimeoutSeconds;
    }

    @Override
    protected SslContext build(TlsMaterial m) {
      CertifiedKey cert = m.certificate();
      if (cert == null) {
        throw new ConfigException(path, "No TLS certificates found for server context");
      }
      // Envoy asks for a client certificate whenever it has something to verify it against.
      ClientAuth auth = requireClientCertificate ? ClientAuth.REQUIRE : m.verifier().verifiesAnything() ? ClientAuth.OPTIONAL : ClientAuth.NONE;
      SslContextBuilder b = SslProviders.common(SslContextBuilder.forServer(cert.key(), cert.chain()), params, alpn)
          .trustManager(m.verifier())
          .clientAuth(auth);
      if (sessionTimeoutSeconds > 0) {
        b.sessionTimeout(sessionTimeoutSeconds);
      }
      try {
        return b.build();
      } catch (SSLException | RuntimeException e) {
        throw new ConfigException(path, "failed to build the TLS server context: " + e.getMessage(), e);
      }
    }
  }
}
