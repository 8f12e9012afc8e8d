package dev.sluice.extensions.filters.http.compressor;

import java.util.Set;

/**
 * Envoy's ResponseDirectionConfig (or, without it, the deprecated top-level fields).
 *
 * @param uncompressibleCodes {@code uncompressible_response_codes}
 */
record ResponseConfig(
    DirectionConfig common,
    boolean disableOnEtag,
    boolean removeAcceptEncoding,
    Set<Integer> uncompressibleCodes,
    ResponseStats stats) {
  ResponseConfig {
    uncompressibleCodes = Set.copyOf(uncompressibleCodes);
  }
}
