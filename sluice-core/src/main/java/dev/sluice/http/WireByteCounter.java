package dev.sluice.http;

import dev.sluice.api.stats.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * Counts a connection's bytes on the wire (below the codec, above TLS) into Envoy's
 * {@code *_cx_rx_bytes_total}/{@code *_cx_tx_bytes_total} counters.
 */
public final class WireByteCounter extends ChannelDuplexHandler {
  private final Counter rx;
  private final Counter tx;

  public WireByteCounter(Counter rx, Counter tx) {
    this.rx = rx;
    this.tx = tx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf b) {
      rx.add(b.readableBytes());
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf b) {
      tx.add(b.readableBytes());
    }
    ctx.write(msg, promise);
  }
}
