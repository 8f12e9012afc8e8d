/** {@code envoy.filters.http.compressor}: response (and request) body compression with a pluggable library. */
@NullMarked
package dev.sluice.extensions.filters.http.compressor;

import org.jspecify.annotations.NullMarked;
