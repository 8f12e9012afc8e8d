package dev.sluice.extensions.filters.listener.http_inspector;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.ListenerFilter;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Per connection: looks at the first bytes of a plaintext connection. The HTTP/2 connection
 * preface (RFC 9113 section 3.4) gives ALPN {@code h2c}; an HTTP/1.x request line (RFC 9112
 * section 3) gives {@code http/1.1} or {@code http/1.0}. Skipped on TLS, where ALPN is known.
 */
final class HttpInspector implements ListenerFilter {
  /** Envoy inspects at most this many bytes. */
  static final int MAX_INSPECT = 8192;
  private static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HTTP_VERSION = "HTTP/1.x\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final List<String> H2C = List.of("h2c");
  private static final List<String> HTTP11 = List.of("http/1.1");
  private static final List<String> HTTP10 = List.of("http/1.0");
  private final HttpInspectorStats stats;

  HttpInspector(HttpInspectorStats stats) {
    this.stats = stats;
  }

  @Override
  public Status onAccept(DownstreamConnection connection) {
    return Status.NEED_MORE_DATA;
  }

  @Override
  public int maxReadBytes() {
    return MAX_INSPECT;
  }

  @Override
  public Status onData(ByteBuf peeked, DownstreamConnection connection, boolean endOfStream) {
    if (!connection.transportProtocol.equals("raw_buffer")) {
      return Status.CONTINUE;
    }
    Verdict v = inspect(peeked);
    if (v == Verdict.NEED_MORE && (endOfStream || peeked.readableBytes() >= MAX_INSPECT)) {
      v = Verdict.NOT_HTTP;
    }
    switch (v) {
      case NEED_MORE -> {
        return Status.NEED_MORE_DATA;
      }
      case H2 -> {
        stats.http2Found.inc();
        connection.applicationProtocols = H2C;
      }
      case HTTP11 -> {
        stats.http11Found.inc();
        connection.applicationProtocols = HTTP11;
      }
      case HTTP10 -> {
        stats.http10Found.inc();
        connection.applicationProtocols = HTTP10;
      }
      case NOT_HTTP -> stats.httpNotFound.inc();
    }
    return Status.CONTINUE;
  }

  enum Verdict {
    NEED_MORE,
    H2,
    HTTP11,
    HTTP10,
    NOT_HTTP
  }

  static Verdict inspect(ByteBuf b) {
    int start = b.readerIndex();
    int n = b.readableBytes();
    boolean prefacePrefix = true;
    for (int i = 0; i < Math.min(n, H2_PREFACE.length); i++) {
      if (b.getByte(start + i) != H2_PREFACE[i]) {
        prefacePrefix = false;
        break;
      }
    }
    if (prefacePrefix) {
      return n >= H2_PREFACE.length ? Verdict.H2 : Verdict.NEED_MORE;
    }
    return requestLine(b, start, start + n);
  }

  // method SP request-target SP HTTP-version CRLF, judged as far as the bytes go.
  private static Verdict requestLine(ByteBuf b, int pos, int end) {
    int methodStart = pos;
    while (pos < end && isTchar(b.getByte(pos))) {
      pos++;
    }
    if (pos == end) {
      return Verdict.NEED_MORE;
    }
    if (pos == methodStart || b.getByte(pos) != ' ') {
      return Verdict.NOT_HTTP;
    }
    int targetStart = ++pos;
    while (pos < end && b.getByte(pos) > ' ' && b.getByte(pos) < 0x7f) {
      pos++;
    }
    if (pos == end) {
      return Verdict.NEED_MORE;
    }
    if (pos == targetStart || b.getByte(pos) != ' ') {
      return Verdict.NOT_HTTP;
    }
    pos++;
    byte minor = 0;
    for (int i = 0; i < HTTP_VERSION.length; i++, pos++) {
      if (pos == end) {
        return Verdict.NEED_MORE;
      }
      byte c = b.getByte(pos);
      if (i == 7) {
        if (c != '0' && c != '1') {
          return Verdict.NOT_HTTP;
        }
        minor = c;
      } else if (c != HTTP_VERSION[i]) {
        return Verdict.NOT_HTTP;
      }
    }
    return minor == '1' ? Verdict.HTTP11 : Verdict.HTTP10;
  }

  private static boolean isTchar(byte c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
