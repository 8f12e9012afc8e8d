package dev.sluice.extensions.compression.zstd;

import com.github.luben.zstd.EndDirective;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.sluice.extensions.filters.http.compressor.StreamCompressor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * One zstd frame streamed with ZSTD_compressStream2: each chunk ends with ZSTD_e_flush (a complete
 * block the client can decode), the last with ZSTD_e_end. zstd-jni streams between direct buffers.
 */
final class ZstdCompressor implements StreamCompressor {
  private final ZstdCompressCtx ctx = new ZstdCompressCtx();
  private final int chunk;
  private boolean closed;

  ZstdCompressor(int level, boolean checksum, int strategy, byte @Nullable [] dictionary, int chunk) {
    ctx.setLevel(level);
    ctx.setChecksum(checksum);
    if (strategy != 0) {
      ctx.setStrategy(strategy);
    }
    if (dictionary != null) {
      ctx.loadDict(dictionary);
    }
    this.chunk = chunk;
  }

  @Override
  public ByteBuf compress(ByteBuf input, boolean finish, ByteBufAllocator alloc) {
    ByteBuf direct = input.isDirect() && input.nioBufferCount() == 1 ? null : alloc.directBuffer(input.readableBytes());
    ByteBuf out = alloc.directBuffer(chunk);
    try {
      ByteBuffer src;
      if (direct == null) {
        src = input.nioBuffer(input.readerIndex(), input.readableBytes());
      } else {
        direct.writeBytes(input, input.readerIndex(), input.readableBytes());
        src = direct.nioBuffer();
      }
      EndDirective directive = finish ? EndDirective.END : EndDirective.FLUSH;
      while (true) {
        out.ensureWritable(chunk);
        ByteBuffer dst = out.nioBuffer(out.writerIndex(), out.writableBytes());
        int before = dst.position();
        boolean done = ctx.compressDirectByteBufferStream(dst, src, directive);
        out.writerIndex(out.writerIndex() + dst.position() - before);
        if (done && !src.hasRemaining()) {
          break;
        }
      }
    } catch (RuntimeException e) {
      out.release();
      throw e;
    } finally {
      if (direct != null) {
        direct.release();
      }
    }
    if (finish) {
      close();
    }
    return out;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      ctx.close();
    }
  }
}
