package dev.sluice.extensions.filters.http.compressor;

import com.google.protobuf.Message;
import dev.sluice.api.ExtensionFactory;

/**
 * A compression library extension (Envoy's {@code envoy.compression.compressor} category, e.g.
 * {@code envoy.compression.gzip.compressor}), found by the type URL of
 * {@code compressor_library.typed_config}.
 */
public interface CompressorLibraryFactory<C extends Message> extends ExtensionFactory<C> {
  /**
   * Validates {@code config} once.
   *
   * @throws dev.sluice.api.config.ConfigException naming the field (relative to the library config)
   */
  CompressorLibrary create(C config);
}
