package dev.sluice.extensions.filters.listener.tls_inspector;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;

/** Envoy's {@code tls_inspector.*} counters. */
final class TlsInspectorStats {
  final Counter clientHelloTooLarge;
  final Counter tlsFound;
  final Counter tlsNotFound;
  final Counter alpnFound;
  final Counter alpnNotFound;
  final Counter sniFound;
  final Counter sniNotFound;

  TlsInspectorStats(StatsScope root) {
    StatsScope s = root.scope("tls_inspector.");
    clientHelloTooLarge = s.counter("client_hello_too_large");
    tlsFound = s.counter("tls_found");
    tlsNotFound = s.counter("tls_not_found");
    alpnFound = s.counter("alpn_found");
    alpnNotFound = s.counter("alpn_not_found");
    sniFound = s.counter("sni_found");
    sniNotFound = s.counter("sni_not_found");
  }
}
