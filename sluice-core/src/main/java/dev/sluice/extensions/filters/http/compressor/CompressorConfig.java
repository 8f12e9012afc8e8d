package dev.sluice.extensions.filters.http.compressor;

import org.jspecify.annotations.Nullable;

/**
 * One compressor filter's compiled config.
 *
 * @param request the request direction, null when {@code request_direction_config} is absent
 *     (Envoy compresses requests only when asked)
 * @param chain the compressors of the connection manager this filter is in, for negotiation
 */
record CompressorConfig(
    CompressorLibrary library,
    @Nullable DirectionConfig request,
    ResponseConfig response,
    CompressorChain chain) {}
