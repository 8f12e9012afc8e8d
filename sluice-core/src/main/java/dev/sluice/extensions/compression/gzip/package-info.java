/** {@code envoy.compression.gzip.compressor}: gzip with the JDK's Deflater. */
@NullMarked
package dev.sluice.extensions.compression.gzip;

import org.jspecify.annotations.NullMarked;
