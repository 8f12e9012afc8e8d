package dev.sluice.extensions.filters.http.compressor;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;

/** The response-only stats: what {@code accept-encoding} asked for, and etag refusals. */
final class ResponseStats {
  final Counter noAcceptHeader;
  final Counter headerIdentity;
  final Counter headerCompressorUsed;
  final Counter headerCompressorOvershadowed;
  final Counter headerWildcard;
  final Counter headerNotValid;
  final Counter notCompressedEtag;

  ResponseStats(StatsScope scope) {
    noAcceptHeader = scope.counter("no_accept_header");
    headerIdentity = scope.counter("header_identity");
    headerCompressorUsed = scope.counter("header_compressor_used");
    headerCompressorOvershadowed = scope.counter("header_compressor_overshadowed");
    headerWildcard = scope.counter("header_wildcard");
    headerNotValid = scope.counter("header_not_valid");
    notCompressedEtag = scope.counter("not_compressed_etag");
  }

  /** Counts the decision for a filter whose encoding is {@code mine}; true when it compresses. */
  boolean count(AcceptEncoding.Decision decision, String mine) {
    boolean compress = decision.encoding().equals(mine);
    switch (decision.kind()) {
      case VALID -> (compress ? headerCompressorUsed : headerCompressorOvershadowed).inc();
      case IDENTITY -> headerIdentity.inc();
      case WILDCARD -> headerWildcard.inc();
      case NOT_VALID -> headerNotValid.inc();
    }
    return compress;
  }
}
