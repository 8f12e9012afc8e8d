package dev.sluice.listener;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * A listener's {@code transparent} ({@code IP_TRANSPARENT}: accept connections that iptables
 * TPROXY steers here, whose local address is their original destination, not one of this host's)
 * and {@code freebind} ({@code IP_FREEBIND}: bind to an address not configured here). As in Envoy,
 * unset leaves the socket as it is, false clears the option, true sets it; IPv6 addresses also get
 * the {@code IPV6_} option. Both are Linux socket options: the epoll transport is required.
 */
final class ListenerSocketOptions {
  /** SOL_IPV6 (41) / IPV6_TRANSPARENT (75), IPV6_FREEBIND (78) from linux/in6.h: Netty has no constants for them. */
  private static final IntegerUnixChannelOption IPV6_TRANSPARENT = new IntegerUnixChannelOption("IPV6_TRANSPARENT", 41, 75);
  private static final IntegerUnixChannelOption IPV6_FREEBIND = new IntegerUnixChannelOption("IPV6_FREEBIND", 41, 78);

  private final @Nullable Boolean transparent;
  private final @Nullable Boolean freebind;

  private ListenerSocketOptions(@Nullable Boolean transparent, @Nullable Boolean freebind) {
    this.transparent = transparent;
    this.freebind = freebind;
  }

  /**
   * @param epoll whether the workers run the epoll transport
   * @throws ConfigException naming {@code transparent} or {@code freebind} when set without epoll
   */
  static ListenerSocketOptions of(Listener config, boolean epoll) {
    Boolean transparent = config.hasTransparent() ? config.getTransparent().getValue() : null;
    Boolean freebind = config.hasFreebind() ? config.getFreebind().getValue() : null;
    if (!epoll && (transparent != null || freebind != null)) {
      throw new ConfigException(transparent != null ? "transparent" : "freebind",
          "needs the epoll transport (a Linux socket option); this proxy runs on NIO");
    }
    return new ListenerSocketOptions(transparent, freebind);
  }

  /** Sets the options on {@code b}'s server socket, before it binds to {@code address}. */
  ServerBootstrap applyTo(ServerBootstrap b, InetSocketAddress address) {
    boolean v6 = address.getAddress() instanceof Inet6Address;
    if (transparent != null) {
      b.option(EpollChannelOption.IP_TRANSPARENT, transparent);
      if (v6) {
        b.option(IPV6_TRANSPARENT, transparent ? 1 : 0);
      }
    }
    if (freebind != null) {
      b.option(EpollChannelOption.IP_FREEBIND, freebind);
      if (v6) {
        b.option(IPV6_FREEBIND, freebind ? 1 : 0);
      }
    }
    return b;
  }

  /**
   * Reads the options back from a bound server socket: Netty only logs a setsockopt it was
   * refused, and {@code IP_TRANSPARENT} needs {@code CAP_NET_ADMIN}; Envoy fails the listener then.
   */
  void verify(Channel ch) {
    if (transparent != null && !transparent.equals(ch.config().getOption(EpollChannelOption.IP_TRANSPARENT))) {
      throw new ConfigException("transparent", "cannot set IP_TRANSPARENT on " + ch.localAddress()
          + " (setting it needs the CAP_NET_ADMIN capability)");
    }
    if (freebind != null && !freebind.equals(ch.config().getOption(EpollChannelOption.IP_FREEBIND))) {
      throw new ConfigException("freebind", "cannot set IP_FREEBIND on " + ch.localAddress());
    }
  }
}
