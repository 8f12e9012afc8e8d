package dev.sluice.extensions.filters.http.compressor;

/** One validated compression library config: makes a compressor per compressed stream. */
public interface CompressorLibrary {
  /** The {@code content-encoding} token: {@code gzip}, {@code br}, {@code zstd}. */
  String contentEncoding();

  /** Envoy's stats prefix of the library, without the dot: {@code gzip}, {@code brotli}, {@code zstd}. */
  String statsPrefix();

  /** A new compressor for one body (on the stream's worker). */
  StreamCompressor newCompressor();
}
