package dev.sluice.extensions.filters.http.compressor;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Compresses one body chunk by chunk (Envoy's Compressor). Each call flushes, so that what went in
 * so far can be decoded from what came out (streamed bodies such as server-sent events reach the
 * client at once); the last call finishes the stream. Confined to one worker; not reusable.
 */
public interface StreamCompressor extends AutoCloseable {
  /**
   * Compresses the readable bytes of {@code input} (not released, reader index not moved) and
   * returns the compressed bytes (possibly none), allocated from {@code alloc}.
   *
   * @param finish true for the last chunk: the output ends the compressed stream
   */
  ByteBuf compress(ByteBuf input, boolean finish, ByteBufAllocator alloc);

  /** Frees native resources; idempotent. */
  @Override
  void close();
}
