package dev.sluice.extensions.compression.brotli;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.encoder.Encoder;
import dev.sluice.api.config.ConfigException;
import dev.sluice.extensions.filters.http.compressor.ChunkSize;
import dev.sluice.extensions.filters.http.compressor.CompressorLibrary;
import dev.sluice.extensions.filters.http.compressor.CompressorLibraryFactory;
import dev.sluice.extensions.filters.http.compressor.StreamCompressor;
import io.envoyproxy.envoy.extensions.compression.brotli.compressor.v3.Brotli;

/**
 * {@code envoy.compression.brotli.compressor} through brotli4j (Google's brotli encoder): quality
 * (3 by default), window bits (18) and mode as Envoy. brotli4j's streaming encoder takes neither
 * {@code input_block_bits} nor {@code disable_literal_context_modeling}: they are validated and
 * left to the encoder's defaults (the output is standard brotli either way).
 */
public final class BrotliCompressorFactory implements CompressorLibraryFactory<Brotli> {
  public static final String NAME = "envoy.compression.brotli.compressor";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Class<Brotli> configType() {
    return Brotli.class;
  }

  @Override
  public Brotli defaultInstance() {
    return Brotli.getDefaultInstance();
  }

  @Override
  public CompressorLibrary create(Brotli config) {
    int quality = config.hasQuality() ? config.getQuality().getValue() : 3;
    if (quality < 0 || quality > 11) {
      throw new ConfigException("quality", "must be at most 11, got " + Integer.toUnsignedString(quality));
    }
    int windowBits = config.hasWindowBits() ? config.getWindowBits().getValue() : 18;
    if (windowBits < 10 || windowBits > 24) {
      throw new ConfigException("window_bits", "must be between 10 and 24, got " + Integer.toUnsignedString(windowBits));
    }
    if (config.hasInputBlockBits()
        && (config.getInputBlockBits().getValue() < 16 || config.getInputBlockBits().getValue() > 24)) {
      throw new ConfigException("input_block_bits", "must be between 16 and 24, got "
          + Integer.toUnsignedString(config.getInputBlockBits().getValue()));
    }
    int chunk = ChunkSize.of(config.hasChunkSize(), config.getChunkSize().getValue());
    Encoder.Mode mode = switch (config.getEncoderMode()) {
      case DEFAULT, GENERIC -> Encoder.Mode.GENERIC;
      case TEXT -> Encoder.Mode.TEXT;
      case FONT -> Encoder.Mode.FONT;
      case UNRECOGNIZED -> throw new ConfigException("encoder_mode", "unknown value " + config.getEncoderModeValue());
    };
    if (!Brotli4jLoader.isAvailable()) {
      throw new ConfigException("", "the brotli native library does not load on this machine: "
          + Brotli4jLoader.getUnavailabilityCause());
    }
    return new CompressorLibrary() {
      @Override
      public String contentEncoding() {
        return "br";
      }

      @Override
      public String statsPrefix() {
        return "brotli";
      }

      @Override
      public StreamCompressor newCompressor() {
        return new BrotliCompressor(quality, windowBits, mode, chunk);
      }
    };
  }
}
