package dev.sluice.upstream.health;

import dev.sluice.upstream.HostImpl;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import java.io.ByteArrayOutputStream;
import java.util.List;

/**
 * {@code tcp_health_check}: connect, write {@code send}, pass once every {@code receive} block has
 * arrived, in order (other bytes may come between them). With nothing to receive, a connection is
 * the check: it passes once connected and the connection is closed (each check connects anew).
 */
final class TcpProbe extends Probe {
  private static final int MAX_BUFFER = 64 * 1024;
  private final HealthCheckConfig.Tcp tcp;
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();

  TcpProbe(HostImpl host, HealthCheckConfig config, HealthCheckStats stats, EventLoop loop) {
    super(host, config, stats, loop);
    this.tcp = config.tcp();
  }

  @Override
  protected boolean canReuse() {
    return super.canReuse() && !tcp.receive().isEmpty();
  }

  @Override
  protected void initPipeline(ChannelPipeline pipeline) {
    pipeline.addLast(new Reader());
  }

  @Override
  protected void send(Channel channel) {
    received.reset();
    if (tcp.send().length > 0) {
      channel.writeAndFlush(Unpooled.wrappedBuffer(tcp.send()));
    }
    if (tcp.receive().isEmpty()) {
      complete(channel, CheckResult.HEALTHY);
      closeChannel();
    }
  }

  /** Envoy's TCP matcher: each block found after the end of the previous one. */
  static boolean matches(byte[] buffer, int length, List<byte[]> blocks) {
    int from = 0;
    for (byte[] block : blocks) {
      int at = indexOf(buffer, length, block, from);
      if (at < 0) {
        return false;
      }
      from = at + block.length;
    }
    return true;
  }

  private static int indexOf(byte[] buffer, int length, byte[] block, int from) {
    outer:
    for (int i = from; i + block.length <= length; i++) {
      for (int j = 0; j < block.length; j++) {
        if (buffer[i + j] != block[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private final class Reader extends SimpleChannelInboundHandler<ByteBuf> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
      if (received.size() + msg.readableBytes() > MAX_BUFFER) {
        ctx.close();
        return;
      }
      byte[] bytes = new byte[msg.readableBytes()];
      msg.readBytes(bytes);
      received.writeBytes(bytes);
      byte[] all = received.toByteArray();
      if (matches(all, all.length, tcp.receive())) {
        received.reset();
        complete(ctx.channel(), CheckResult.HEALTHY);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
