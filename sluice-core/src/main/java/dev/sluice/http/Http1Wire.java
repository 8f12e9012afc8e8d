package dev.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.netty.util.CharsetUtil;
import java.util.Map;

/**
 * HTTP/1.1 bytes written straight from the stream model: header fields from {@code Http2Headers}
 * (no Netty {@code HttpResponse} and {@code DefaultHttpHeaders} per message) and chunked framing,
 * byte for byte what Netty's {@code HttpObjectEncoder} writes: {@code name: value CRLF}, a
 * character as its ISO-8859-1 byte (one beyond U+00FF becomes {@code ?}), chunk sizes in lower-case hex.
 */
public final class Http1Wire {
  private static final short COLON_SPACE = (':' << 8) | ' ';
  private static final short CRLF = ('\r' << 8) | '\n';
  private static final ByteBuf CRLF_BUF = Unpooled.unreleasableBuffer(
      Unpooled.directBuffer(2).writeShort(CRLF)).asReadOnly();
  private static final ByteBuf LAST_CHUNK = Unpooled.unreleasableBuffer(
      Unpooled.directBuffer(5).writeBytes(new byte[] {'0', '\r', '\n', '\r', '\n'})).asReadOnly();

  private static final byte[] HEX = "0123456789abcdef".getBytes(CharsetUtil.US_ASCII);

  private Http1Wire() {}

  /** One header field line. */
  public static void writeHeader(ByteBuf buf, CharSequence name, CharSequence value) {
    buf.ensureWritable(name.length() + value.length() + 4);
    writeAscii(buf, name);
    buf.writeShort(COLON_SPACE);
    writeAscii(buf, value);
    buf.writeShort(CRLF);
  }

  /** Every field of {@code headers} but the pseudo-headers. */
  public static void writeHeaders(ByteBuf buf, Iterable<Map.Entry<CharSequence, CharSequence>> headers) {
    for (Map.Entry<CharSequence, CharSequence> e : headers) {
      CharSequence name = e.getKey();
      if (name.length() > 0 && name.charAt(0) == ':') {
        continue;
      }
      writeHeader(buf, name, e.getValue());
    }
  }

  public static void writeAscii(ByteBuf buf, CharSequence s) {
    if (s instanceof AsciiString a) {
      ByteBufUtil.copy(a, 0, buf, a.length());
    } else {
      buf.writeCharSequence(s, CharsetUtil.US_ASCII);
    }
  }

  public static void writeCrlf(ByteBuf buf) {
    buf.writeShort(CRLF);
  }

  /** The line before a chunk of {@code size} bytes. */
  public static void writeChunkSize(ByteBuf buf, int size) {
    int shift = size == 0 ? 0 : (31 - Integer.numberOfLeadingZeros(size)) & ~3;
    for (; shift >= 0; shift -= 4) {
      buf.writeByte(HEX[(size >>> shift) & 0xF]);
    }
    buf.writeShort(CRLF);
  }

  /** The CRLF after a chunk's data (a shared read-only buffer). */
  public static ByteBuf chunkEnd() {
    return CRLF_BUF.duplicate();
  }

  /** The last chunk without trailers: {@code 0 CRLF CRLF} (a shared read-only buffer). */
  public static ByteBuf lastChunk() {
    return LAST_CHUNK.duplicate();
  }

  /**
   * Writes (without flushing) one piece of a message body, the same for requests and responses:
   * chunk-framed when {@code chunked} (an empty piece writes no chunk; {@code endStream} adds the
   * last chunk), as is otherwise. Takes ownership of {@code data}.
   */
  public static void writeBody(ChannelHandlerContext c, ByteBuf data, boolean chunked, boolean endStream) {
    if (chunked) {
      int n = data.readableBytes();
      if (n > 0) {
        ByteBuf size = c.alloc().buffer(10);
        writeChunkSize(size, n);
        c.write(size, c.voidPromise());
        c.write(data, c.voidPromise());
        c.write(chunkEnd(), c.voidPromise());
      } else {
        data.release();
      }
      if (endStream) {
        c.write(lastChunk(), c.voidPromise());
      }
    } else if (data.isReadable()) {
      c.write(data, c.voidPromise());
    } else {
      data.release();
    }
  }

  /**
   * Writes (without flushing) the end of a chunked body with its trailer fields; HTTP/1.1 carries
   * trailers only there (RFC 9112 7.1.2).
   */
  public static void writeLastChunk(ChannelHandlerContext c, Http2Headers trailers) {
    if (trailers.isEmpty()) {
      c.write(lastChunk(), c.voidPromise());
      return;
    }
    ByteBuf buf = c.alloc().buffer(128);
    buf.writeByte('0');
    writeCrlf(buf);
    writeHeaders(buf, trailers);
    writeCrlf(buf);
    c.write(buf, c.voidPromise());
  }
}
