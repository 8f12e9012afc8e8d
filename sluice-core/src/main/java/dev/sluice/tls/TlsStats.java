package dev.sluice.tls;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;
import io.netty.handler.ssl.CipherSuiteConverter;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Envoy's SSL stats in the {@code ssl.} scope of a listener ({@code listener.<addr>.ssl.*}) or a
 * cluster ({@code cluster.<name>.ssl.*}), plus the socket factory's own
 * ({@code server_ssl_socket_factory.*} / {@code client_ssl_socket_factory.*}). The fixed counters
 * are created with the context, as Envoy does; {@code ssl.versions.<v>} and {@code ssl.ciphers.<c>}
 * appear when first negotiated: a handshake (not a request) does one lookup in a concurrent map,
 * the name is built once per distinct value.
 */
final class TlsStats {
  final Counter connectionError;
  final Counter handshake;
  final Counter noCertificate;
  final Counter failVerifyNoCert;
  final Counter failVerifyError;
  final Counter failVerifySan;
  final Counter failVerifyCertHash;
  /** The context was rebuilt because a secret it uses changed. */
  final Counter contextUpdateBySds;
  /** A connection was closed because a secret its context needs is not available yet. */
  final Counter secretsNotReady;
  private final StatsScope ssl;
  private final ConcurrentHashMap<String, Counter> versions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> ciphers = new ConcurrentHashMap<>();

  private TlsStats(StatsScope parent, String factoryScope, String notReadyName) {
    ssl = parent.scope("ssl.");
    connectionError = ssl.counter("connection_error");
    handshake = ssl.counter("handshake");
    noCertificate = ssl.counter("no_certificate");
    failVerifyNoCert = ssl.counter("fail_verify_no_cert");
    failVerifyError = ssl.counter("fail_verify_error");
    failVerifySan = ssl.counter("fail_verify_san");
    failVerifyCertHash = ssl.counter("fail_verify_cert_hash");
    StatsScope factory = parent.scope(factoryScope);
    contextUpdateBySds = factory.counter("ssl_context_update_by_sds");
    secretsNotReady = factory.counter(notReadyName);
  }

  /** For a listener: {@code parent} is the listener's scope ({@code listener.<addr>.}). */
  static TlsStats downstream(StatsScope listenerScope) {
    return new TlsStats(listenerScope, "server_ssl_socket_factory.", "downstream_context_secrets_not_ready");
  }

  /** For a cluster: {@code parent} is the cluster's scope ({@code cluster.<name>.}). */
  static TlsStats upstream(StatsScope clusterScope) {
    return new TlsStats(clusterScope, "client_ssl_socket_factory.", "upstream_context_secrets_not_ready");
  }

  /** Counts a negotiated protocol version, named as Envoy names it ({@code TLSv1.3}). */
  void version(String protocol) {
    versions.computeIfAbsent(protocol, v -> ssl.scope("versions.").counter(v)).inc();
  }

  /**
   * Counts a negotiated cipher under BoringSSL's name: the IETF name for TLS 1.3 suites
   * ({@code TLS_AES_128_GCM_SHA256}), the OpenSSL name otherwise ({@code ECDHE-RSA-AES128-GCM-SHA256}).
   */
  void cipher(String javaName) {
    ciphers.computeIfAbsent(javaName, c -> ssl.scope("ciphers.").counter(envoyCipherName(c))).inc();
  }

  static String envoyCipherName(String javaName) {
    if (javaName.startsWith("TLS_AES_") || javaName.startsWith("TLS_CHACHA20_")) {
      return javaName;
    }
    String openSsl = CipherSuiteConverter.toOpenSsl(javaName, true);
    return openSsl == null ? javaName : openSsl;
  }
}
