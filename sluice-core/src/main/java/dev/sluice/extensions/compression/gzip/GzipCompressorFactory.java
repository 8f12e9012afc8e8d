package dev.sluice.extensions.compression.gzip;

import dev.sluice.api.config.ConfigException;
import dev.sluice.extensions.filters.http.compressor.ChunkSize;
import dev.sluice.extensions.filters.http.compressor.CompressorLibrary;
import dev.sluice.extensions.filters.http.compressor.CompressorLibraryFactory;
import dev.sluice.extensions.filters.http.compressor.StreamCompressor;
import io.envoyproxy.envoy.extensions.compression.gzip.compressor.v3.Gzip;
import java.util.zip.Deflater;

/**
 * {@code envoy.compression.gzip.compressor} with the JDK's {@link Deflater}. Level and strategy map
 * to zlib's; the JDK has no RLE or FIXED strategy (they compress with the default one) and always
 * uses zlib's largest window and default memory level, so {@code window_bits} and
 * {@code memory_level} are validated but do not change the output, which any gzip decoder reads.
 */
public final class GzipCompressorFactory implements CompressorLibraryFactory<Gzip> {
  public static final String NAME = "envoy.compression.gzip.compressor";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Class<Gzip> configType() {
    return Gzip.class;
  }

  @Override
  public Gzip defaultInstance() {
    return Gzip.getDefaultInstance();
  }

  @Override
  public CompressorLibrary create(Gzip config) {
    if (config.hasMemoryLevel() && (config.getMemoryLevel().getValue() < 1 || config.getMemoryLevel().getValue() > 9)) {
      throw new ConfigException("memory_level", "must be between 1 and 9, got " + config.getMemoryLevel().getValue());
    }
    if (config.hasWindowBits() && (config.getWindowBits().getValue() < 9 || config.getWindowBits().getValue() > 15)) {
      throw new ConfigException("window_bits", "must be between 9 and 15, got " + config.getWindowBits().getValue());
    }
    int chunk = ChunkSize.of(config.hasChunkSize(), config.getChunkSize().getValue());
    int level = switch (config.getCompressionLevel()) {
      case DEFAULT_COMPRESSION -> Deflater.DEFAULT_COMPRESSION;
      case UNRECOGNIZED -> throw new ConfigException("compression_level", "unknown value " + config.getCompressionLevelValue());
      default -> config.getCompressionLevelValue();
    };
    int strategy = switch (config.getCompressionStrategy()) {
      case FILTERED -> Deflater.FILTERED;
      case HUFFMAN_ONLY -> Deflater.HUFFMAN_ONLY;
      case DEFAULT_STRATEGY, RLE, FIXED -> Deflater.DEFAULT_STRATEGY;
      case UNRECOGNIZED -> throw new ConfigException("compression_strategy", "unknown value " + config.getCompressionStrategyValue());
    };
    return new CompressorLibrary() {
      @Override
      public String contentEncoding() {
        return "gzip";
      }

      @Override
      public String statsPrefix() {
        return "gzip";
      }

      @Override
      public StreamCompressor newCompressor() {
        return new GzipCompressor(level, strategy, chunk);
      }
    };
  }
}
