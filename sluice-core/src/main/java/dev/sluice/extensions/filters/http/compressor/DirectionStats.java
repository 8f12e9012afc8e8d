package dev.sluice.extensions.filters.http.compressor;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;

/** The stats both directions count (Envoy's compressor stats), resolved once per filter config. */
final class DirectionStats {
  final Counter compressed;
  final Counter notCompressed;
  final Counter totalUncompressedBytes;
  final Counter totalCompressedBytes;
  final Counter contentLengthTooSmall;

  DirectionStats(StatsScope scope) {
    compressed = scope.counter("compressed");
    notCompressed = scope.counter("not_compressed");
    totalUncompressedBytes = scope.counter("total_uncompressed_bytes");
    totalCompressedBytes = scope.counter("total_compressed_bytes");
    contentLengthTooSmall = scope.counter("content_length_too_small");
  }
}
