/** {@code envoy.compression.brotli.compressor}: brotli through brotli4j. */
@NullMarked
package dev.sluice.extensions.compression.brotli;

import org.jspecify.annotations.NullMarked;
