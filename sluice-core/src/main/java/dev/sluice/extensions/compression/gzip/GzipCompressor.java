package dev.sluice.extensions.compression.gzip;

import dev.sluice.extensions.filters.http.compressor.StreamCompressor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A gzip member (RFC 1952) written as zlib's deflateInit2 with window bits + 16 does: the fixed
 * 10-byte header, raw deflate data flushed with SYNC_FLUSH after each chunk, then CRC-32 and the
 * input size (mod 2^32), little-endian.
 */
final class GzipCompressor implements StreamCompressor {
  /** ID1 ID2, CM=deflate, no flags, no mtime, no extra flags, OS=Unix (as zlib writes it). */
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

  private final Deflater deflater;
  private final CRC32 crc = new CRC32();
  private final int chunk;
  private boolean headerWritten;
  private boolean closed;

  GzipCompressor(int level, int strategy, int chunk) {
    this.deflater = new Deflater(level, true);
    this.deflater.setStrategy(strategy);
    this.chunk = chunk;
  }

  @Override
  public ByteBuf compress(ByteBuf input, boolean finish, ByteBufAllocator alloc) {
    ByteBuf out = alloc.heapBuffer(chunk);
    if (!headerWritten) {
      out.writeBytes(HEADER);
      headerWritten = true;
    }
    int n = input.readableBytes();
    if (n > 0) {
      for (ByteBuffer part : input.nioBuffers(input.readerIndex(), n)) {
        crc.update(part.duplicate());
        deflater.setInput(part);
        while (!deflater.needsInput()) {
          drain(out, Deflater.NO_FLUSH);
        }
      }
    }
    if (finish) {
      deflater.finish();
      while (!deflater.finished()) {
        drain(out, Deflater.NO_FLUSH);
      }
      out.writeIntLE((int) crc.getValue());
      out.writeIntLE((int) deflater.getBytesRead());
      close();
    } else {
      // SYNC_FLUSH is done when the output did not fill the space it was given.
      while (drain(out, Deflater.SYNC_FLUSH)) {
        // more pending output
      }
    }
    return out;
  }

  /** Deflates into {@code out}'s free space; true when that space was filled (more may follow). */
  private boolean drain(ByteBuf out, int flush) {
    out.ensureWritable(chunk);
    int space = out.writableBytes();
    int written = deflater.deflate(out.array(), out.arrayOffset() + out.writerIndex(), space, flush);
    out.writerIndex(out.writerIndex() + written);
    return written == space;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      deflater.end();
    }
  }
}
