package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.ClusterStats;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/** Counts an upstream connection's wire bytes into {@code upstream_cx_rx/tx_bytes_total}. */
final class ByteCounter extends ChannelDuplexHandler {
  private final ClusterStats stats;

  ByteCounter(ClusterStats stats) {
    this.stats = stats;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf b) {
      stats.upstreamCxRxBytesTotal.add(b.readableBytes());
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf b) {
      stats.upstreamCxTxBytesTotal.add(b.readableBytes());
    }
    ctx.write(msg, promise);
  }
}
