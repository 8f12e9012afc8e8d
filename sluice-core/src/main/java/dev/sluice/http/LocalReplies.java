package dev.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Envoy-shaped local replies: {@code :status}, {@code content-type: text/plain}, a short body; to a
 * gRPC request, a gRPC trailers-only response instead.
 */
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

  /** A gRPC request ({@code content-type: application/grpc} or {@code application/grpc+...}): its local replies are gRPC-shaped. */
  public static boolean isGrpc(@Nullable Http2Headers requestHeaders) {
    CharSequence ct = requestHeaders == null ? null : requestHeaders.get(CONTENT_TYPE);
    return ct != null && AsciiString.regionMatches(ct, false, 0, Headers.APPLICATION_GRPC, 0, Headers.APPLICATION_GRPC.length())
        && (ct.length() == Headers.APPLICATION_GRPC.length() || ct.charAt(Headers.APPLICATION_GRPC.length()) == '+'
            || ct.charAt(Headers.APPLICATION_GRPC.length()) == ';');
  }

  /**
   * Envoy's local reply to a gRPC request: a trailers-only response ({@code :status 200},
   * {@code content-type: application/grpc}, no body) whose {@code grpc-status} is the one given,
   * else the one the headers already carry, else the HTTP status mapped by {@link #httpToGrpcStatus},
   * and whose {@code grpc-message} is the percent-encoded body text.
   */
  public static void toGrpc(Http2Headers h, int httpStatus, String body, @Nullable Integer grpcStatus, boolean headRequest) {
    h.status(HttpResponseStatus.OK.codeAsText());
    h.set(CONTENT_TYPE, Headers.APPLICATION_GRPC);
    if (grpcStatus != null || !h.contains(Headers.GRPC_STATUS)) {
      h.set(Headers.GRPC_STATUS, Integer.toString(grpcStatus != null ? grpcStatus : httpToGrpcStatus(httpStatus)));
    }
    if (!body.isEmpty() && !headRequest) {
      h.set(Headers.GRPC_MESSAGE, percentEncode(body));
    }
    h.remove(CONTENT_LENGTH);
  }

  /** The gRPC status for an HTTP status from a non-gRPC hop (gRPC's http-grpc-status-mapping.md), as Envoy maps it. */
  public static int httpToGrpcStatus(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> 13; // INTERNAL
      case 401 -> 16; // UNAUTHENTICATED
      case 403 -> 7; // PERMISSION_DENIED
      case 404 -> 12; // UNIMPLEMENTED
      case 429, 502, 503, 504 -> 14; // UNAVAILABLE
      default -> 2; // UNKNOWN
    };
  }

  /** gRPC's grpc-message encoding: UTF-8 bytes outside printable ASCII, and '%', as %XX. */
  static String percentEncode(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = null;
    for (int i = 0; i < bytes.length; i++) {
      int b = bytes[i] & 0xff;
      boolean plain = b >= ' ' && b <= '~' && b != '%';
      if (!plain && sb == null) {
        sb = new StringBuilder(bytes.length + 16).append(text, 0, i);
      }
      if (sb != null) {
        if (plain) {
          sb.append((char) b);
        } else {
          sb.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16))).append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
        }
      }
    }
    return sb == null ? text : sb.toString();
  }

  public static ByteBuf body(ByteBufAllocator alloc, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return alloc.buffer(bytes.length).writeBytes(bytes);
  }
}
