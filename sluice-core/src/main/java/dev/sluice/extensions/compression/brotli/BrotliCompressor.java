package dev.sluice.extensions.compression.brotli;

import com.aayushatharva.brotli4j.encoder.Encoder;
import com.aayushatharva.brotli4j.encoder.EncoderJNI;
import dev.sluice.extensions.filters.http.compressor.StreamCompressor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/** One brotli stream: input goes through the encoder's direct input buffer, FLUSH after each chunk. */
final class BrotliCompressor implements StreamCompressor {
  private final EncoderJNI.Wrapper encoder;
  private final ByteBuffer inputBuffer;
  private final int chunk;
  private boolean closed;

  BrotliCompressor(int quality, int windowBits, Encoder.Mode mode, int chunk) {
    try {
      this.encoder = new EncoderJNI.Wrapper(chunk, quality, windowBits, mode);
    } catch (IOException e) {
      throw new UncheckedIOException("brotli encoder initialisation failed", e);
    }
    this.inputBuffer = encoder.getInputBuffer();
    this.chunk = chunk;
  }

  @Override
  public ByteBuf compress(ByteBuf input, boolean finish, ByteBufAllocator alloc) {
    ByteBuf out = alloc.buffer(chunk);
    try {
      int index = input.readerIndex();
      int end = index + input.readableBytes();
      while (index < end) {
        int n = Math.min(inputBuffer.capacity(), end - index);
        inputBuffer.clear();
        input.getBytes(index, inputBuffer.limit(n));
        index += n;
        run(EncoderJNI.Operation.PROCESS, n, out);
      }
      run(finish ? EncoderJNI.Operation.FINISH : EncoderJNI.Operation.FLUSH, 0, out);
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    if (finish) {
      close();
    }
    return out;
  }

  /** Pushes {@code length} buffered input bytes with {@code op} and collects all the output. */
  private void run(EncoderJNI.Operation op, int length, ByteBuf out) {
    boolean pushed = false;
    while (true) {
      if (!encoder.isSuccess()) {
        throw new IllegalStateException("brotli encoding failed");
      }
      if (encoder.hasMoreOutput()) {
        out.writeBytes(encoder.pull());
      } else if (encoder.hasRemainingInput()) {
        encoder.push(op, 0);
      } else if (!pushed) {
        encoder.push(op, length);
        pushed = true;
      } else {
        return;
      }
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      encoder.destroy();
    }
  }
}
