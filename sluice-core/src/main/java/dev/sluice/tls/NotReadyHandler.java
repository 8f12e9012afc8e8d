package dev.sluice.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import javax.net.ssl.SSLException;

/**
 * Stands in for the TLS handler while the context's secrets are missing (Envoy's NotReadySslSocket):
 * tells the handlers behind it that the handshake failed, closes the connection, and lets no
 * {@code channelActive} or bytes through, so network filters and client codecs never start.
 */
final class NotReadyHandler extends ChannelInboundHandlerAdapter {
  private final String reason;
  private boolean failed;

  NotReadyHandler(String reason) {
    this.reason = reason;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      fail(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    fail(ctx);
  }

  private void fail(ChannelHandlerContext ctx) {
    if (failed) {
      return;
    }
    failed = true;
    ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(new SSLException("TLS context not ready: " + reason)));
    ctx.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ReferenceCountUtil.release(msg);
  }
}
