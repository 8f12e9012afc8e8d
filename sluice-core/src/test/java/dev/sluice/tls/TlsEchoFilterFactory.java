package dev.sluice.tls;

import com.google.protobuf.StringValue;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.api.network.NetworkFilterFactory;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.nio.charset.StandardCharsets;

/**
 * A terminal test filter ({@code test.tls_echo}): once the TLS handshake completes it writes one
 * line {@code sni|transport|alpn} from what the connection learned, then echoes what it reads.
 */
final class TlsEchoFilterFactory implements NetworkFilterFactory<StringValue> {
  @Override
  public String name() {
    return "test.tls_echo";
  }

  @Override
  public Class<StringValue> configType() {
    return StringValue.class;
  }

  @Override
  public StringValue defaultInstance() {
    return StringValue.getDefaultInstance();
  }

  @Override
  public boolean terminal() {
    return true;
  }

  @Override
  public NetworkFilter create(StringValue config, FactoryContext context) {
    return c -> c.channel.pipeline().addLast(new Echo(c));
  }

  private static final class Echo extends ChannelInboundHandlerAdapter {
    private final DownstreamConnection c;

    Echo(DownstreamConnection c) {
      this.c = c;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof SslHandshakeCompletionEvent e && e.isSuccess()) {
        String line = c.serverName + "|" + c.transportProtocol + "|" + String.join(",", c.applicationProtocols) + "\n";
        ctx.writeAndFlush(Unpooled.copiedBuffer(line, StandardCharsets.US_ASCII));
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.write((ByteBuf) msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }
  }
}
