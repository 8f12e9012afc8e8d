package dev.sluice.extensions.compression.zstd;

import dev.sluice.api.config.ConfigException;
import dev.sluice.extensions.filters.http.compressor.ChunkSize;
import dev.sluice.extensions.filters.http.compressor.CompressorLibrary;
import dev.sluice.extensions.filters.http.compressor.CompressorLibraryFactory;
import dev.sluice.extensions.filters.http.compressor.StreamCompressor;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.compression.zstd.compressor.v3.Zstd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code envoy.compression.zstd.compressor} through zstd-jni: level (0 means zstd's default, 3),
 * checksum, strategy and an optional dictionary as Envoy.
 */
public final class ZstdCompressorFactory implements CompressorLibraryFactory<Zstd> {
  public static final String NAME = "envoy.compression.zstd.compressor";
  /** ZSTD_maxCLevel(). */
  private static final int MAX_LEVEL = 22;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Class<Zstd> configType() {
    return Zstd.class;
  }

  @Override
  public Zstd defaultInstance() {
    return Zstd.getDefaultInstance();
  }

  @Override
  public CompressorLibrary create(Zstd config) {
    int level = config.hasCompressionLevel() ? config.getCompressionLevel().getValue() : 0;
    if (level < 0 || level > MAX_LEVEL) {
      throw new ConfigException("compression_level", "must be at most " + MAX_LEVEL + ", got " + Integer.toUnsignedString(level));
    }
    if (config.getStrategy() == Zstd.Strategy.UNRECOGNIZED) {
      throw new ConfigException("strategy", "unknown value " + config.getStrategyValue());
    }
    int strategy = config.getStrategyValue();
    int chunk = ChunkSize.of(config.hasChunkSize(), config.getChunkSize().getValue());
    byte[] dictionary = config.hasDictionary() ? dictionary(config.getDictionary()) : null;
    boolean checksum = config.getEnableChecksum();
    return new CompressorLibrary() {
      @Override
      public String contentEncoding() {
        return "zstd";
      }

      @Override
      public String statsPrefix() {
        return "zstd";
      }

      @Override
      public StreamCompressor newCompressor() {
        return new ZstdCompressor(level == 0 ? 3 : level, checksum, strategy, dictionary, chunk);
      }
    };
  }

  private static byte[] dictionary(DataSource source) {
    return switch (source.getSpecifierCase()) {
      case INLINE_BYTES -> source.getInlineBytes().toByteArray();
      case INLINE_STRING -> source.getInlineString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      case FILENAME -> {
        try {
          yield Files.readAllBytes(Path.of(source.getFilename()));
        } catch (IOException e) {
          throw new ConfigException("dictionary.filename", "cannot read " + source.getFilename() + ": " + e.getMessage());
        }
      }
      default -> throw new ConfigException("dictionary", "a filename, inline_bytes or inline_string is required");
    };
  }
}
