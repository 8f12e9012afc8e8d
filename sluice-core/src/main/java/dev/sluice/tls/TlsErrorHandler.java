package dev.sluice.tls;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits right behind a downstream SslHandler: a TLS error from an untrusted peer (bad handshake,
 * rejected certificate, garbage records) is already counted in the SSL stats, so it only closes
 * the connection, logged at debug, instead of travelling down the pipeline as an exception.
 */
@ChannelHandler.Sharable
final class TlsErrorHandler extends ChannelInboundHandlerAdapter {
  static final TlsErrorHandler INSTANCE = new TlsErrorHandler();
  private static final Logger log = LoggerFactory.getLogger(TlsErrorHandler.class);

  private TlsErrorHandler() {}

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    if (c instanceof SSLException) {
      log.debug("TLS error on {}: {}", ctx.channel(), c.toString());
      ctx.close();
      return;
    }
    ctx.fireExceptionCaught(cause);
  }
}
