package dev.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/** Envoy-shaped local replies: {@code :status}, {@code content-type: text/plain}, a short body. */
public final class LocalReplies {
  private static final AsciiString TEXT_PLAIN = AsciiString.cached("text/plain");
  private static final AsciiString CONTENT_TYPE = AsciiString.cached("content-type");
  private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
  private static final AsciiString ZERO = AsciiString.cached("0");

  private LocalReplies() {}

  public static Http2Headers headers(int status, String body) {
    Http2Headers h = new DefaultHttp2Headers(false, 4);
    h.status(HttpResponseStatus.valueOf(status).codeAsText());
    if (body.isEmpty()) {
      h.set(CONTENT_LENGTH, ZERO);
    } else {
      h.set(CONTENT_LENGTH, Integer.toString(body.getBytes(StandardCharsets.UTF_8).length));
      h.set(CONTENT_TYPE, TEXT_PLAIN);
    }
    return h;
  }

  public static ByteBuf body(ByteBufAllocator alloc, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return alloc.buffer(bytes.length).writeBytes(bytes);
  }
}
