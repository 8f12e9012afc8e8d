package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.netty.util.CharsetUtil;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Http1Wire} writes what Netty's {@code HttpResponseEncoder}/{@code HttpRequestEncoder}
 * write for the same message, byte for byte (RFC 9112 sections 3, 4, 5 and 7.1): the start line
 * and fields written with Http1Wire as the connections do, then the body framing.
 */
class Http1WireTest {
  private static final byte[] FIVE = "hello".getBytes(CharsetUtil.US_ASCII);
  private static final byte[] BIG = new byte[300];

  static {
    for (int i = 0; i < BIG.length; i++) {
      BIG[i] = (byte) ('a' + i % 26);
    }
  }

  /** Fields (lower-case names, as the stream model holds them), some repeated, values of both kinds. */
  private static List<Map.Entry<CharSequence, CharSequence>> fields() {
    return List.of(
        Map.entry("content-type", "text/plain; charset=utf-8"),
        Map.entry("x-multi", "a"),
        Map.entry(new AsciiString("x-multi"), new AsciiString("b, c")),
        Map.entry("x-empty", ""),
        Map.entry("x-tab", "a\tb"),
        // Beyond US-ASCII: a String's character up to U+00FF is written as its byte (ISO-8859-1),
        // a wider one as '?'; an AsciiString's bytes are copied.
        Map.entry("x-latin", "caf\u00e9"),
        Map.entry("x-wide", "wide\u4e2d"),
        Map.entry("x-bytes", new AsciiString(new byte[] {'o', (byte) 0xE9, 'k'}, false)),
        Map.entry("server", "envoy"));
  }

  private static HttpHeaders nettyHeaders(List<Map.Entry<CharSequence, CharSequence>> fields) {
    // Non-validating: the point is the encoding of each field, obs-text included.
    HttpHeaders h = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
    for (Map.Entry<CharSequence, CharSequence> e : fields) {
      h.add(e.getKey(), e.getValue());
    }
    return h;
  }

  private static Http2Headers streamHeaders(List<Map.Entry<CharSequence, CharSequence>> fields) {
    Http2Headers h = new DefaultHttp2Headers(false);
    for (Map.Entry<CharSequence, CharSequence> e : fields) {
      h.add(e.getKey(), e.getValue());
    }
    return h;
  }

  /** What Netty's encoder writes for these messages. */
  private static byte[] netty(io.netty.channel.ChannelHandler encoder, Object... messages) {
    EmbeddedChannel ch = new EmbeddedChannel(encoder);
    ch.writeOutbound(messages);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
      out.writeBytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    assertThat(ch.finishAndReleaseAll()).isFalse();
    return out.toByteArray();
  }

  /** Bytes as the connections assemble them: buffers written in order. */
  private static byte[] bytes(List<ByteBuf> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuf b : parts) {
      out.writeBytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    return out.toByteArray();
  }

  private static ByteBuf statusHead(HttpResponseStatus status, Http2Headers headers) {
    ByteBuf buf = Unpooled.buffer();
    Http1Wire.writeAscii(buf, AsciiString.cached("HTTP/1.1"));
    buf.writeByte(' ');
    Http1Wire.writeAscii(buf, status.codeAsText());
    buf.writeByte(' ');
    Http1Wire.writeAscii(buf, status.reasonPhrase());
    Http1Wire.writeCrlf(buf);
    Http1Wire.writeHeaders(buf, headers);
    Http1Wire.writeCrlf(buf);
    return buf;
  }

  private static ByteBuf requestHead(String method, String target, Http2Headers headers) {
    ByteBuf buf = Unpooled.buffer();
    Http1Wire.writeAscii(buf, method);
    buf.writeByte(' ');
    Http1Wire.writeAscii(buf, target);
    buf.writeByte(' ');
    Http1Wire.writeAscii(buf, "HTTP/1.1");
    Http1Wire.writeCrlf(buf);
    Http1Wire.writeHeader(buf, Headers.HOST, headers.authority());
    Http1Wire.writeHeaders(buf, headers);
    Http1Wire.writeCrlf(buf);
    return buf;
  }

  /** The chunked framing of the connections' encodeData: size line, data, CRLF; nothing for no data. */
  private static void chunk(List<ByteBuf> out, byte[] data) {
    if (data.length > 0) {
      ByteBuf size = Unpooled.buffer();
      Http1Wire.writeChunkSize(size, data.length);
      out.add(size);
      out.add(Unpooled.wrappedBuffer(data));
      out.add(Http1Wire.chunkEnd());
    }
  }

  /** The connections' encodeTrailers: the last chunk, then the trailer fields and an empty line. */
  private static ByteBuf lastChunkWithTrailers(Http2Headers trailers) {
    ByteBuf buf = Unpooled.buffer();
    buf.writeByte('0');
    Http1Wire.writeCrlf(buf);
    Http1Wire.writeHeaders(buf, trailers);
    Http1Wire.writeCrlf(buf);
    return buf;
  }

  private static List<ByteBuf> list(ByteBuf... bufs) {
    return new ArrayList<>(List.of(bufs));
  }

  @Test
  void fixedLengthResponse() {
    List<Map.Entry<CharSequence, CharSequence>> fields = new ArrayList<>(fields());
    fields.add(Map.entry("content-length", "5"));
    Http2Headers h = streamHeaders(fields).status("200");
    byte[] expected = netty(new HttpResponseEncoder(),
        new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, nettyHeaders(fields)),
        new DefaultLastHttpContent(Unpooled.wrappedBuffer(FIVE)));
    byte[] actual = bytes(list(statusHead(HttpResponseStatus.OK, h), Unpooled.wrappedBuffer(FIVE)));
    assertThat(new String(actual, CharsetUtil.ISO_8859_1)).isEqualTo(new String(expected, CharsetUtil.ISO_8859_1))
        .startsWith("HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\nx-multi: a\r\nx-multi: b, c\r\n")
        .contains("x-wide: wide?\r\n")
        .endsWith("content-length: 5\r\n\r\nhello");
    assertThat(actual).containsSequence('f', (byte) 0xE9, '\r').containsSequence('o', (byte) 0xE9, 'k');
  }

  @Test
  void emptyFixedLengthResponseIsTheHeadAlone() {
    List<Map.Entry<CharSequence, CharSequence>> fields = List.of(Map.entry("content-length", "0"));
    for (HttpResponseStatus status : List.of(HttpResponseStatus.OK, HttpResponseStatus.NOT_FOUND,
        HttpResponseStatus.valueOf(299), HttpResponseStatus.valueOf(599))) {
      byte[] expected = netty(new HttpResponseEncoder(),
          new DefaultHttpResponse(HttpVersion.HTTP_1_1, status, nettyHeaders(fields)), LastHttpContent.EMPTY_LAST_CONTENT);
      byte[] actual = bytes(list(statusHead(status, streamHeaders(fields).status(status.codeAsText()))));
      assertThat(new String(actual, CharsetUtil.ISO_8859_1)).isEqualTo(new String(expected, CharsetUtil.ISO_8859_1));
    }
  }

  @Test
  void chunkedResponseWithoutTrailers() {
    List<Map.Entry<CharSequence, CharSequence>> fields = new ArrayList<>(fields());
    fields.add(Map.entry("transfer-encoding", "chunked"));
    byte[] expected = netty(new HttpResponseEncoder(),
        new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, nettyHeaders(fields)),
        new DefaultHttpContent(Unpooled.wrappedBuffer(FIVE)),
        new DefaultHttpContent(Unpooled.EMPTY_BUFFER),
        new DefaultHttpContent(Unpooled.wrappedBuffer(BIG)),
        LastHttpContent.EMPTY_LAST_CONTENT);
    List<ByteBuf> parts = list(statusHead(HttpResponseStatus.OK, streamHeaders(fields).status("200")));
    chunk(parts, FIVE);
    chunk(parts, new byte[0]);
    chunk(parts, BIG);
    parts.add(Http1Wire.lastChunk());
    byte[] actual = bytes(parts);
    assertThat(new String(actual, CharsetUtil.ISO_8859_1)).isEqualTo(new String(expected, CharsetUtil.ISO_8859_1))
        .contains("\r\n\r\n5\r\nhello\r\n12c\r\nabc").endsWith("\r\n0\r\n\r\n");
  }

  @Test
  void chunkedResponseWithTrailers() {
    List<Map.Entry<CharSequence, CharSequence>> fields = List.of(Map.entry("transfer-encoding", "chunked"),
        Map.entry("trailer", "grpc-status"));
    List<Map.Entry<CharSequence, CharSequence>> trailers = List.of(Map.entry("grpc-status", "0"),
        Map.entry("grpc-message", "ok then"), Map.entry("x-multi", "a"), Map.entry("x-multi", "b"));
    DefaultLastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, nettyHeaders(trailers));
    byte[] expected = netty(new HttpResponseEncoder(),
        new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, nettyHeaders(fields)),
        new DefaultHttpContent(Unpooled.wrappedBuffer(FIVE)), last);
    List<ByteBuf> parts = list(statusHead(HttpResponseStatus.OK, streamHeaders(fields).status("200")));
    chunk(parts, FIVE);
    parts.add(lastChunkWithTrailers(streamHeaders(trailers)));
    byte[] actual = bytes(parts);
    assertThat(new String(actual, CharsetUtil.ISO_8859_1)).isEqualTo(new String(expected, CharsetUtil.ISO_8859_1))
        .endsWith("5\r\nhello\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok then\r\nx-multi: a\r\nx-multi: b\r\n\r\n");
  }

  @Test
  void chunkedResponseWithNoDataAndOnlyTrailers() {
    List<Map.Entry<CharSequence, CharSequence>> fields = List.of(Map.entry("transfer-encoding", "chunked"));
    List<Map.Entry<CharSequence, CharSequence>> trailers = List.of(Map.entry("grpc-status", "13"));
    byte[] expected = netty(new HttpResponseEncoder(),
        new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, nettyHeaders(fields)),
        new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, nettyHeaders(trailers)));
    byte[] actual = bytes(list(statusHead(HttpResponseStatus.OK, streamHeaders(fields).status("200")),
        lastChunkWithTrailers(streamHeaders(trailers))));
    assertThat(new String(actual, CharsetUtil.ISO_8859_1)).isEqualTo(new String(expected, CharsetUtil.ISO_8859_1))
        .endsWith("\r\n\r\n0\r\ngrpc-status: 13\r\n\r\n");
  }

  @Test
  void requests() {
    List<Map.Entry<CharSequence, CharSequence>> fields = new ArrayList<>(fields());
    // GET without a body.
    Http2Headers get = streamHeaders(fields).method("GET").path("/a/b?q=1&r=%20").authority("example.com:8080");
    List<Map.Entry<CharSequence, CharSequence>> withHost = new ArrayList<>();
    withHost.add(Map.entry("host", "example.com:8080"));
    withHost.addAll(fields);
    byte[] expected = netty(new HttpRequestEncoder(),
        new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a/b?q=1&r=%20", nettyHeaders(withHost)),
        LastHttpContent.EMPTY_LAST_CONTENT);
    byte[] actual = bytes(list(requestHead("GET", "/a/b?q=1&r=%20", get)));
    assertThat(new String(actual, CharsetUtil.ISO_8859_1)).isEqualTo(new String(expected, CharsetUtil.ISO_8859_1))
        .startsWith("GET /a/b?q=1&r=%20 HTTP/1.1\r\nhost: example.com:8080\r\ncontent-type: ");

    // POST, chunked, with trailers.
    List<Map.Entry<CharSequence, CharSequence>> chunked = List.of(Map.entry("host", "h"), Map.entry("transfer-encoding", "chunked"));
    List<Map.Entry<CharSequence, CharSequence>> trailers = List.of(Map.entry("x-checksum", "abc"));
    expected = netty(new HttpRequestEncoder(),
        new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/upload", nettyHeaders(chunked)),
        new DefaultHttpContent(Unpooled.wrappedBuffer(BIG)),
        new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, nettyHeaders(trailers)));
    List<ByteBuf> parts = list(requestHead("POST", "/upload",
        new DefaultHttp2Headers(false).method("POST").path("/upload").authority("h").add("transfer-encoding", "chunked")));
    chunk(parts, BIG);
    parts.add(lastChunkWithTrailers(streamHeaders(trailers)));
    assertThat(new String(bytes(parts), CharsetUtil.ISO_8859_1)).isEqualTo(new String(expected, CharsetUtil.ISO_8859_1));

    // POST with a fixed length.
    List<Map.Entry<CharSequence, CharSequence>> fixed = List.of(Map.entry("host", "h"), Map.entry("content-length", "5"));
    expected = netty(new HttpRequestEncoder(),
        new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/p", nettyHeaders(fixed)),
        new DefaultLastHttpContent(Unpooled.wrappedBuffer(FIVE)));
    actual = bytes(list(requestHead("POST", "/p",
        new DefaultHttp2Headers(false).method("POST").path("/p").authority("h").add("content-length", "5")),
        Unpooled.wrappedBuffer(FIVE)));
    assertThat(new String(actual, CharsetUtil.ISO_8859_1)).isEqualTo(new String(expected, CharsetUtil.ISO_8859_1));
  }

  @Test
  void chunkSizesAreLowerCaseHexWithoutLeadingZeros() {
    for (int size : new int[] {0, 1, 9, 10, 15, 16, 17, 255, 256, 4095, 4096, 0xABCDE, 65535, 65536, 1 << 20,
        Integer.MAX_VALUE}) {
      ByteBuf buf = Unpooled.buffer();
      Http1Wire.writeChunkSize(buf, size);
      assertThat(buf.toString(CharsetUtil.US_ASCII)).isEqualTo(Integer.toHexString(size) + "\r\n");
      buf.release();
    }
  }

  @Test
  void sharedFramingBuffersAreIndependentReadOnlyCopies() {
    ByteBuf end = Http1Wire.chunkEnd();
    ByteBuf last = Http1Wire.lastChunk();
    assertThat(end.toString(CharsetUtil.US_ASCII)).isEqualTo("\r\n");
    assertThat(last.toString(CharsetUtil.US_ASCII)).isEqualTo("0\r\n\r\n");
    // Consumed by a write, released by the transport: the next caller still gets the full bytes.
    end.skipBytes(2).release();
    last.skipBytes(5).release();
    assertThat(Http1Wire.chunkEnd().readableBytes()).isEqualTo(2);
    assertThat(Http1Wire.lastChunk().toString(CharsetUtil.US_ASCII)).isEqualTo("0\r\n\r\n");
    assertThatThrownBy(() -> Http1Wire.lastChunk().setByte(0, '1')).isInstanceOf(java.nio.ReadOnlyBufferException.class);
  }
}
