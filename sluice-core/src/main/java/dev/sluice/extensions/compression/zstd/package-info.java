/** {@code envoy.compression.zstd.compressor}: zstd through zstd-jni. */
@NullMarked
package dev.sluice.extensions.compression.zstd;

import org.jspecify.annotations.NullMarked;
