package dev.sluice.upstream.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.util.List;

/**
 * Netty's HTTP/1 response parser told the method of the request in flight (a connection carries one
 * at a time), as Netty's {@code HttpClientCodec} pairs them: a response to HEAD has no body, and a
 * 200 to CONNECT ends HTTP on the connection (what follows is passed on as raw bytes). The request
 * itself is written as bytes by {@link Http1ClientConnection}.
 */
final class Http1ResponseDecoder extends HttpResponseDecoder {
  private boolean headRequest;
  private boolean connectRequest;
  private boolean tunnel;

  Http1ResponseDecoder(HttpDecoderConfig config) {
    super(config);
  }

  /** The request just written (the next response answers it). */
  void onRequest(boolean head, boolean connect) {
    headRequest = head;
    connectRequest = connect;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
    if (tunnel) {
      int readable = actualReadableBytes();
      if (readable > 0) {
        out.add(buffer.readBytes(readable));
      }
      return;
    }
    super.decode(ctx, buffer, out);
  }

  /**
   * RFC 9112 4: the status code is three digits (Netty takes any integer, so {@code 2000} would be
   * passed on and read as a 200 by the stream's status class); RFC 9110 15 has no class below 1xx.
   * A refused status line becomes a failed decoder result, a protocol error of the connection.
   */
  @Override
  protected HttpMessage createMessage(String[] initialLine) {
    String code = initialLine[1];
    if (code.length() != 3 || code.charAt(0) < '1' || code.charAt(0) > '9' || !isDigit(code.charAt(1)) || !isDigit(code.charAt(2))) {
      throw new IllegalArgumentException("invalid status code: " + code);
    }
    return super.createMessage(initialLine);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    int code = ((HttpResponse) msg).status().code();
    if (code >= 100 && code < 200) {
      // An interim response answers no request of its own.
      return super.isContentAlwaysEmpty(msg);
    }
    boolean head = headRequest;
    boolean connect = connectRequest;
    headRequest = false;
    connectRequest = false;
    if (head) {
      return true;
    }
    if (connect && code == 200) {
      tunnel = true;
      return true;
    }
    return super.isContentAlwaysEmpty(msg);
  }
}
