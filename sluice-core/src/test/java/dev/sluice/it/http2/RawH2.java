package dev.sluice.it.http2;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP/2 (h2c prior knowledge) client on a plain socket writing frames byte by byte, so tests
 * can send what a library would refuse (upper-case names, pseudo-headers after regular ones) and
 * control flow control exactly. Header blocks are HPACK literals without indexing; responses are
 * decoded with Netty's HPACK decoder. Blocking reads with a timeout; single-threaded.
 */
final class RawH2 implements AutoCloseable {
  static final int DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8, CONTINUATION = 9;
  static final int END_STREAM = 0x1, END_HEADERS = 0x4, ACK = 0x1;

  /** What arrived for one stream. */
  static final class Stream {
    @Nullable Http2Headers headers;
    @Nullable Http2Headers trailers;
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    long rstCode = -1;
    boolean ended;

    boolean done() {
      return ended || rstCode >= 0;
    }

    int status() {
      return headers == null ? 0 : Integer.parseInt(headers.status().toString());
    }

    String bodyText() {
      return body.toString(StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final DefaultHttp2HeadersDecoder hpack = new DefaultHttp2HeadersDecoder(false);
  final Map<Integer, Stream> streams = new HashMap<>();
  final Map<Integer, Long> serverSettings = new HashMap<>();
  /** Returning the window for every DATA frame received (off: the test returns it). */
  boolean autoWindowUpdate = true;
  long goAwayCode = -1;
  int goAwayLastStream = -1;
  boolean closed;
  private int continuationStream;
  private final ByteArrayOutputStream headerBlock = new ByteArrayOutputStream();
  private int headerBlockFlags;

  /** Connects and sends the preface and SETTINGS with {@code initialWindow} as INITIAL_WINDOW_SIZE. */
  RawH2(int port, int initialWindow) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(10_000);
    socket.setTcpNoDelay(true);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
    out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    byte[] settings = {0, 2, 0, 0, 0, 0, 0, 4, (byte) (initialWindow >>> 24), (byte) (initialWindow >>> 16), (byte) (initialWindow >>> 8), (byte) initialWindow};
    frame(SETTINGS, 0, 0, settings);
  }

  RawH2(int port) throws IOException {
    this(port, 65535);
  }

  // ---------------------------------------------------------------- writing

  synchronized void frame(int type, int flags, int stream, byte[] payload) throws IOException {
    byte[] h = {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length, (byte) type, (byte) flags,
        (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream};
    out.write(h);
    out.write(payload);
    out.flush();
  }

  /** A HEADERS frame whose block holds {@code nameValues} literally, in the order given. */
  void headers(int stream, boolean endStream, String... nameValues) throws IOException {
    frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, block(nameValues));
  }

  /** A plain request: GET (or POST when a body follows) {@code path}, authority {@code a}. */
  void request(int stream, String method, String path, boolean endStream, String... extra) throws IOException {
    String[] all = new String[8 + extra.length];
    String[] base = {":method", method, ":scheme", "http", ":path", path, ":authority", "a"};
    System.arraycopy(base, 0, all, 0, 8);
    System.arraycopy(extra, 0, all, 8, extra.length);
    headers(stream, endStream, all);
  }

  void data(int stream, byte[] data, boolean endStream) throws IOException {
    frame(DATA, endStream ? END_STREAM : 0, stream, data);
  }

  void rst(int stream, int code) throws IOException {
    frame(RST_STREAM, 0, stream, int32(code));
  }

  void windowUpdate(int stream, int increment) throws IOException {
    frame(WINDOW_UPDATE, 0, stream, int32(increment));
  }

  static byte[] block(String... nameValues) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < nameValues.length; i += 2) {
      b.write(0); // literal header field without indexing, new name
      string(b, nameValues[i]);
      string(b, nameValues[i + 1]);
    }
    return b.toByteArray();
  }

  private static void string(ByteArrayOutputStream b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
    // HPACK integer with a 7-bit prefix, no Huffman coding (RFC 7541 5.1, 5.2).
    int n = bytes.length;
    if (n < 127) {
      b.write(n);
    } else {
      b.write(127);
      n -= 127;
      while (n >= 128) {
        b.write((n & 127) | 128);
        n >>>= 7;
      }
      b.write(n);
    }
    b.write(bytes, 0, bytes.length);
  }

  private static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  // ---------------------------------------------------------------- reading

  Stream stream(int id) {
    return streams.computeIfAbsent(id, k -> new Stream());
  }

  /** Reads frames until {@code condition} holds; false when the connection closed first. */
  boolean readUntil(BooleanSupplier condition) throws IOException {
    while (!condition.getAsBoolean()) {
      if (closed) {
        return false;
      }
      readFrame();
    }
    return true;
  }

  /** Reads until stream {@code id} ended or was reset (or the connection closed); returns it. */
  Stream await(int id) throws IOException {
    readUntil(() -> stream(id).done());
    return stream(id);
  }

  /** Reads until the server closes the connection; true when it did within the read timeout. */
  boolean awaitClose() throws IOException {
    return !readUntil(() -> false);
  }

  private void readFrame() throws IOException {
    byte[] h = new byte[9];
    try {
      in.readFully(h);
    } catch (EOFException | java.net.SocketException e) {
      closed = true;
      return;
    }
    int len = (h[0] & 0xff) << 16 | (h[1] & 0xff) << 8 | (h[2] & 0xff);
    int type = h[3] & 0xff;
    int flags = h[4] & 0xff;
    int id = (h[5] & 0x7f) << 24 | (h[6] & 0xff) << 16 | (h[7] & 0xff) << 8 | (h[8] & 0xff);
    byte[] p = new byte[len];
    try {
      in.readFully(p);
    } catch (EOFException e) {
      closed = true;
      return;
    }
    switch (type) {
      case DATA -> {
        Stream s = stream(id);
        s.body.write(p, 0, p.length);
        if ((flags & END_STREAM) != 0) {
          s.ended = true;
        }
        if (autoWindowUpdate && len > 0) {
          windowUpdate(0, len);
          if (!s.ended) {
            windowUpdate(id, len);
          }
        }
      }
      case HEADERS, CONTINUATION -> {
        if (type == HEADERS) {
          headerBlock.reset();
          headerBlockFlags = flags;
          continuationStream = id;
          int off = (flags & 0x8) != 0 ? 1 : 0; // PADDED
          int pad = off == 1 ? p[0] & 0xff : 0;
          if ((flags & 0x20) != 0) {
            off += 5; // PRIORITY
          }
          headerBlock.write(p, off, p.length - off - pad);
        } else {
          headerBlock.write(p, 0, p.length);
        }
        if ((flags & END_HEADERS) != 0) {
          onHeaderBlock(continuationStream, headerBlockFlags);
        }
      }
      case RST_STREAM -> stream(id).rstCode = ((long) (p[0] & 0xff) << 24) | (p[1] & 0xff) << 16 | (p[2] & 0xff) << 8 | (p[3] & 0xff);
      case SETTINGS -> {
        if ((flags & ACK) == 0) {
          for (int i = 0; i + 6 <= p.length; i += 6) {
            int key = (p[i] & 0xff) << 8 | (p[i + 1] & 0xff);
            long value = ((long) (p[i + 2] & 0xff) << 24) | (p[i + 3] & 0xff) << 16 | (p[i + 4] & 0xff) << 8 | (p[i + 5] & 0xff);
            serverSettings.put(key, value);
          }
          frame(SETTINGS, ACK, 0, new byte[0]);
        }
      }
      case PING -> {
        if ((flags & ACK) == 0) {
          frame(PING, ACK, 0, p);
        }
      }
      case GOAWAY -> {
        goAwayLastStream = (p[0] & 0x7f) << 24 | (p[1] & 0xff) << 16 | (p[2] & 0xff) << 8 | (p[3] & 0xff);
        goAwayCode = ((long) (p[4] & 0xff) << 24) | (p[5] & 0xff) << 16 | (p[6] & 0xff) << 8 | (p[7] & 0xff);
      }
      default -> {}
    }
  }

  private void onHeaderBlock(int id, int flags) throws IOException {
    Http2Headers decoded;
    try {
      decoded = hpack.decodeHeaders(id, Unpooled.wrappedBuffer(headerBlock.toByteArray()));
    } catch (Http2Exception e) {
      throw new IOException(e);
    }
    Stream s = stream(id);
    CharSequence status = decoded.status();
    if (s.headers == null && status != null && status.charAt(0) == '1') {
      return; // interim
    }
    if (s.headers == null) {
      s.headers = decoded;
    } else {
      s.trailers = decoded;
    }
    if ((flags & END_STREAM) != 0) {
      s.ended = true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
