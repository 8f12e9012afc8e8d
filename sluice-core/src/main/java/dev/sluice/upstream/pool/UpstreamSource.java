package dev.sluice.upstream.pool;

import dev.sluice.api.network.DownstreamConnection;
import io.netty.bootstrap.Bootstrap;
import dev.sluice.api.upstream.ClusterInfo;
import io.envoyproxy.envoy.config.core.v3.BindConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.util.AttributeKey;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The source every upstream connection of one downstream connection binds to, set by
 * {@code envoy.filters.listener.original_src} (TPROXY interception): the downstream's own address
 * (port 0: the kernel picks one), bound with {@code IP_TRANSPARENT} since it is not local, and an
 * {@code SO_MARK} so policy routing sends the replies back to this host. It wins over the cluster's
 * {@code upstream_bind_config}, as in Envoy (the socket's local address is set before bind).
 *
 * <p>Kept on the downstream channel as an attribute. Such connections must never be shared with
 * another downstream (Envoy hashes these socket options into the pool key), so the HTTP pools the
 * router uses for this downstream live here, on the downstream's loop, and drain when it closes.
 */
public final class UpstreamSource {
  private static final AttributeKey<UpstreamSource> KEY = AttributeKey.valueOf(UpstreamSource.class, "source");
  /** SOL_SOCKET / SO_MARK; SOL_IPV6 / IPV6_TRANSPARENT, IPV6_FREEBIND (linux/in6.h): Netty has no constants for them. */
  private static final IntegerUnixChannelOption SO_MARK = new IntegerUnixChannelOption("SO_MARK", 1, 36);
  private static final IntegerUnixChannelOption IPV6_TRANSPARENT = new IntegerUnixChannelOption("IPV6_TRANSPARENT", 41, 75);
  private static final IntegerUnixChannelOption IPV6_FREEBIND = new IntegerUnixChannelOption("IPV6_FREEBIND", 41, 78);

  private final InetSocketAddress address;
  private final int mark;
  /** This downstream's pools, by host, priority and protocol; touched only on its loop. */
  final Map<PoolKey, ConnectionPool> pools = new HashMap<>();

  record PoolKey(dev.sluice.api.upstream.Host host, int priority, ConnectionPools.Protocol protocol) {}

  private UpstreamSource(InetSocketAddress address, int mark) {
    this.address = address;
    this.mark = mark;
  }

  /**
   * Makes the upstream connections of {@code connection} bind to {@code address} (its port is
   * ignored: 0) and carry {@code mark} (none when 0). The connection's pools drain when it closes.
   */
  public static void set(DownstreamConnection connection, InetSocketAddress address, int mark) {
    UpstreamSource source = new UpstreamSource(new InetSocketAddress(address.getAddress(), 0), mark);
    connection.channel.attr(KEY).set(source);
    connection.channel.closeFuture().addListener(f -> source.drainPools());
  }

  /** The source set on {@code downstream}, or null. */
  public static @Nullable UpstreamSource of(Channel downstream) {
    return downstream.hasAttr(KEY) ? downstream.attr(KEY).get() : null;
  }

  /** {@code connection}'s upstream bootstrap, with its source applied when it has one. */
  public static Bootstrap bootstrap(DownstreamConnection connection) {
    Bootstrap b = connection.newUpstreamBootstrap();
    UpstreamSource source = of(connection.channel);
    return source == null ? b : source.applyTo(b);
  }

  /** Binds {@code b}'s connections to this source: local address, transparent, mark. */
  Bootstrap applyTo(Bootstrap b) {
    b.localAddress(address).option(EpollChannelOption.IP_TRANSPARENT, true);
    if (address.getAddress() instanceof Inet6Address) {
      b.option(IPV6_TRANSPARENT, 1);
    }
    if (mark != 0) {
      b.option(SO_MARK, mark);
    }
    return b;
  }

  /**
   * Connects {@code b} to {@code remote} from the right source: the bootstrap's own address (an
   * {@link UpstreamSource}) over the cluster's {@code upstream_bind_config.source_address}, with
   * {@code IP_FREEBIND} set or cleared when {@code upstream_bind_config.freebind} says so.
   */
  public static ChannelFuture connect(Bootstrap b, SocketAddress remote, ClusterInfo cluster) {
    InetSocketAddress local = b.config().localAddress() instanceof InetSocketAddress own ? own : cluster.upstreamBindAddress();
    BindConfig bind = cluster.config().getUpstreamBindConfig();
    if (bind.hasFreebind()) {
      boolean on = bind.getFreebind().getValue();
      b.option(EpollChannelOption.IP_FREEBIND, on);
      if (local != null && local.getAddress() instanceof Inet6Address) {
        b.option(IPV6_FREEBIND, on ? 1 : 0);
      }
    }
    return b.connect(remote, local);
  }

  private void drainPools() {
    for (ConnectionPool p : pools.values()) {
      p.drain();
    }
    pools.clear();
  }
}
