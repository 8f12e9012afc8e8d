package dev.sluice.extensions.filters.listener.tls_inspector;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Reads a TLS ClientHello (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2) from the first bytes
 * of a connection without consuming them, reassembling a handshake message split over several
 * records. Extracts SNI (RFC 6066 section 3) and ALPN (RFC 7301 section 3.1).
 */
final class ClientHelloParser {
  /** Envoy's bound on a ClientHello (TLS_MAX_CLIENT_HELLO). */
  static final int MAX_CLIENT_HELLO = 64 * 1024;
  private static final int RECORD_HEADER = 5;
  private static final int CONTENT_HANDSHAKE = 22;
  private static final int HANDSHAKE_CLIENT_HELLO = 1;
  private static final int EXT_SERVER_NAME = 0;
  private static final int EXT_ALPN = 16;

  private ClientHelloParser() {}

  enum Outcome {
    CLIENT_HELLO,
    NOT_TLS,
    NEED_MORE,
    TOO_LARGE
  }

  /** What was found: the outcome, and for a ClientHello its SNI (lower case) and ALPN list. */
  record Result(Outcome outcome, @Nullable String serverName, List<String> alpn) {
    static final Result NOT_TLS = new Result(Outcome.NOT_TLS, null, List.of());
    static final Result NEED_MORE = new Result(Outcome.NEED_MORE, null, List.of());
    static final Result TOO_LARGE = new Result(Outcome.TOO_LARGE, null, List.of());
  }

  static Result parse(ByteBuf in) {
    int end = in.writerIndex();
    int pos = in.readerIndex();
    ByteBuf handshake = null;
    try {
      while (true) {
        if (end - pos < RECORD_HEADER) {
          return pos == in.readerIndex() && end > pos && in.getUnsignedByte(pos) != CONTENT_HANDSHAKE ? Result.NOT_TLS : Result.NEED_MORE;
        }
        if (in.getUnsignedByte(pos) != CONTENT_HANDSHAKE || in.getUnsignedByte(pos + 1) != 3) {
          return Result.NOT_TLS;
        }
        int recordLength = in.getUnsignedShort(pos + 3);
        if (end - pos - RECORD_HEADER < recordLength) {
          return Result.NEED_MORE;
        }
        if (handshake == null) {
          handshake = in.alloc().heapBuffer(recordLength);
        }
        handshake.writeBytes(in, pos + RECORD_HEADER, recordLength);
        pos += RECORD_HEADER + recordLength;
        if (handshake.readableBytes() >= 4) {
          if (handshake.getUnsignedByte(0) != HANDSHAKE_CLIENT_HELLO) {
            return Result.NOT_TLS;
          }
          int length = handshake.getUnsignedMedium(1);
          if (length > MAX_CLIENT_HELLO) {
            return Result.TOO_LARGE;
          }
          if (handshake.readableBytes() >= 4 + length) {
            return body(handshake.slice(4, length));
          }
        }
      }
    } catch (IndexOutOfBoundsException malformed) {
      return Result.NOT_TLS;
    } finally {
      if (handshake != null) {
        handshake.release();
      }
    }
  }

  private static Result body(ByteBuf b) {
    b.skipBytes(2 + 32); // legacy_version, random
    b.skipBytes(b.readUnsignedByte()); // legacy_session_id
    b.skipBytes(b.readUnsignedShort()); // cipher_suites
    b.skipBytes(b.readUnsignedByte()); // legacy_compression_methods
    String sni = null;
    List<String> alpn = new ArrayList<>();
    if (b.isReadable()) {
      ByteBuf extensions = b.readSlice(b.readUnsignedShort());
      while (extensions.isReadable()) {
        int type = extensions.readUnsignedShort();
        ByteBuf data = extensions.readSlice(extensions.readUnsignedShort());
        if (type == EXT_SERVER_NAME) {
          sni = serverName(data.readSlice(data.readUnsignedShort()));
        } else if (type == EXT_ALPN) {
          ByteBuf list = data.readSlice(data.readUnsignedShort());
          while (list.isReadable()) {
            alpn.add(list.readCharSequence(list.readUnsignedByte(), StandardCharsets.US_ASCII).toString());
          }
        }
      }
    }
    return new Result(Outcome.CLIENT_HELLO, sni, List.copyOf(alpn));
  }

  private static @Nullable String serverName(ByteBuf list) {
    while (list.isReadable()) {
      int nameType = list.readUnsignedByte();
      CharSequence name = list.readCharSequence(list.readUnsignedShort(), StandardCharsets.US_ASCII);
      if (nameType == 0) {
        return name.toString().toLowerCase(Locale.ROOT);
      }
    }
    return null;
  }
}
