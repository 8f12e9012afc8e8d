package dev.sluice.upstream.pool;

import io.envoyproxy.envoy.config.core.v3.TcpKeepalive;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import jdk.net.ExtendedSocketOptions;

/**
 * Envoy's {@code upstream_connection_options.tcp_keepalive} on an upstream socket: SO_KEEPALIVE,
 * and where set {@code keepalive_probes}, {@code keepalive_time} and {@code keepalive_interval}
 * as TCP_KEEPCNT, TCP_KEEPIDLE and TCP_KEEPINTVL (unset ones keep the system's defaults, as in
 * Envoy). Epoll channels take them as native options, NIO channels through the JDK's extended
 * socket options.
 */
final class TcpKeepaliveOptions {
  private TcpKeepaliveOptions() {}

  static void apply(Channel ch, TcpKeepalive k) {
    if (!(ch instanceof io.netty.channel.socket.SocketChannel)) {
      return; // a pipe (Unix domain socket) host has no TCP keep-alive
    }
    ch.config().setOption(ChannelOption.SO_KEEPALIVE, true);
    if (ch instanceof EpollSocketChannel) {
      if (k.hasKeepaliveProbes()) {
        ch.config().setOption(EpollChannelOption.TCP_KEEPCNT, k.getKeepaliveProbes().getValue());
      }
      if (k.hasKeepaliveTime()) {
        ch.config().setOption(EpollChannelOption.TCP_KEEPIDLE, k.getKeepaliveTime().getValue());
      }
      if (k.hasKeepaliveInterval()) {
        ch.config().setOption(EpollChannelOption.TCP_KEEPINTVL, k.getKeepaliveInterval().getValue());
      }
    } else if (ch instanceof NioSocketChannel) {
      if (k.hasKeepaliveProbes()) {
        ch.config().setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), k.getKeepaliveProbes().getValue());
      }
      if (k.hasKeepaliveTime()) {
        ch.config().setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), k.getKeepaliveTime().getValue());
      }
      if (k.hasKeepaliveInterval()) {
        ch.config().setOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), k.getKeepaliveInterval().getValue());
      }
    }
  }
}
