package dev.sluice.extensions.filters.http.compressor;

import dev.sluice.api.config.ConfigException;

/** The libraries' {@code chunk_size}: the output buffer step, 4096 unless set, 4096..65536. */
public final class ChunkSize {
  private ChunkSize() {}

  /** @throws ConfigException naming {@code chunk_size} out of range */
  public static int of(boolean set, int value) {
    if (!set) {
      return 4096;
    }
    if (value < 4096 || value > 65536) {
      throw new ConfigException("chunk_size", "must be between 4096 and 65536, got " + Integer.toUnsignedString(value));
    }
    return value;
  }
}
