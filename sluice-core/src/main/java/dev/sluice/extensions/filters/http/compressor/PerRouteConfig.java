package dev.sluice.extensions.filters.http.compressor;

import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code CompressorPerRoute}.
 *
 * @param disabled response compression is off on this route
 * @param removeAcceptEncoding overrides {@code response_direction_config.remove_accept_encoding_header}
 */
record PerRouteConfig(boolean disabled, @Nullable Boolean removeAcceptEncoding) {}
