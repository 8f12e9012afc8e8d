package dev.sluice.http;

import dev.sluice.api.network.DownstreamConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.ssl.SslHandler;
import java.util.List;

/**
 * Codec AUTO (Envoy): HTTP/2 when TLS negotiated {@code h2} or the first bytes are the HTTP/2
 * connection preface (h2c prior knowledge), HTTP/1.1 otherwise. Waits only for as many bytes as
 * it takes to tell.
 */
final class ProtocolDetector extends ByteToMessageDecoder {
  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
  private final HttpConnectionManagerConfig config;
  private final DownstreamConnection connection;

  ProtocolDetector(HttpConnectionManagerConfig config, DownstreamConnection connection) {
    this.config = config;
    this.connection = connection;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl != null && ssl.applicationProtocol() != null) {
      boolean h2 = "h2".equals(ssl.applicationProtocol());
      switchTo(ctx, h2);
      return;
    }
    int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
    if (!ByteBufUtil.equals(in, in.readerIndex(), PREFACE, 0, n)) {
      switchTo(ctx, false);
    } else if (n == PREFACE.readableBytes()) {
      switchTo(ctx, true);
    }
  }

  private void switchTo(ChannelHandlerContext ctx, boolean h2) {
    if (h2) {
      Http2ServerConnection.install(ctx.pipeline(), config, connection);
    } else {
      Http1ServerConnection.install(ctx.pipeline(), config, connection);
    }
    // Removing this decoder hands the bytes it holds to the codec just added.
    ctx.pipeline().remove(this);
  }
}
