package dev.sluice.http;

import dev.sluice.api.network.DownstreamConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import dev.sluice.listener.ListenerDrainEvent;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.ssl.SslHandler;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Codec AUTO (Envoy): HTTP/2 when TLS negotiated {@code h2} or the first bytes are the HTTP/2
 * connection preface (h2c prior knowledge), HTTP/1.1 otherwise. Waits only for as many bytes as
 * it takes to tell.
 */
final class ProtocolDetector extends ByteToMessageDecoder {
  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
  private final HttpConnectionManagerConfig config;
  private final DownstreamConnection connection;
  /** A listener drain that began before the first bytes: told to the codec once it is chosen. */
  private @Nullable ListenerDrainEvent drain;

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

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof ListenerDrainEvent e) {
      drain = e;
    }
    super.userEventTriggered(ctx, evt);
  }

  private void switchTo(ChannelHandlerContext ctx, boolean h2) {
    ChannelPipeline p = ctx.pipeline();
    if (h2) {
      Http2ServerConnection.install(p, config, connection);
    } else {
      Http1ServerConnection.install(p, config, connection);
    }
    // Removing this decoder hands the bytes it holds to the codec just added.
    p.remove(this);
    ListenerDrainEvent d = drain;
    if (d != null) {
      // After the first request started, so it is answered (as the connection's last) rather than
      // dropped with an idle connection.
      p.fireUserEventTriggered(d);
    }
  }
}
