package dev.sluice.extensions.filters.network.rbac;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.rbac.ConnectionInput;
import dev.sluice.rbac.RbacEngine;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Checks a connection when its first bytes arrive (after TLS, so the peer certificate is known):
 * allowed, the bytes go on and (for ONE_TIME_ON_FIRST_BYTE) the handler leaves the pipeline;
 * denied, the bytes are dropped and the connection is closed, after {@code delay_deny} if set, with
 * termination details {@code rbac_access_denied_matched_policy[...]}.
 */
final class RbacConnectionHandler extends ChannelInboundHandlerAdapter {
  private final RbacNetworkConfig config;
  private final DownstreamConnection connection;
  private boolean shadowDone;
  private boolean denied;

  RbacConnectionHandler(RbacNetworkConfig config, DownstreamConnection connection) {
    this.config = config;
    this.connection = connection;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (denied) {
      ReferenceCountUtil.release(msg);
      return;
    }
    ConnectionInput in = ConnectionInput.of(connection);
    RbacEngine shadow = config.shadowRules();
    if (shadow != null && !shadowDone) {
      shadowDone = true;
      RbacEngine.Decision d = shadow.evaluate(in);
      config.stats().countShadow(d);
      config.stats().recordShadow(d, connection.streamInfo, RbacNetworkFilterFactory.NAME);
    }
    RbacEngine rules = config.rules();
    if (rules != null) {
      RbacEngine.Decision d = rules.evaluate(in);
      config.stats().count(d);
      if (!d.allowed()) {
        deny(ctx, msg, d);
        return;
      }
    }
    if (!config.continuous()) {
      ctx.pipeline().remove(this);
    }
    ctx.fireChannelRead(msg);
  }

  private void deny(ChannelHandlerContext ctx, Object msg, RbacEngine.Decision d) {
    denied = true;
    ReferenceCountUtil.release(msg);
    connection.streamInfo.connectionTerminationDetails = RbacEngine.deniedDetails(d);
    if (config.delayDenyNanos() > 0) {
      ctx.channel().config().setAutoRead(false);
      ctx.executor().schedule(() -> ctx.close(), config.delayDenyNanos(), TimeUnit.NANOSECONDS);
    } else {
      ctx.close();
    }
  }
}
