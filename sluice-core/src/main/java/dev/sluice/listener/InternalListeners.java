package dev.sluice.listener;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.net.SocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Where internal listeners (Envoy's {@code envoy.bootstrap.internal_listener}) wait for
 * connections: by worker loop and listener name, since a connection to an
 * {@code envoy_internal_address} stays on the loop that opens it. Keyed by loop, so several servers
 * in one JVM (tests) never meet.
 */
public final class InternalListeners {
  /** The remote address the accepting side sees, as Envoy's internal client address. */
  static final InternalAddress CLIENT_ADDRESS = new InternalAddress("internal_client_address", "");

  private static final Map<EventLoop, Map<String, Acceptor>> BY_LOOP = new ConcurrentHashMap<>();

  private InternalListeners() {}

  /** Takes the accepting end of a new internal connection, on its loop. */
  interface Acceptor {
    void accept(InternalChannel server, InternalChannel client);
  }

  static void bind(EventLoop loop, String name, Acceptor acceptor) {
    BY_LOOP.computeIfAbsent(loop, l -> new ConcurrentHashMap<>()).put(name, acceptor);
  }

  /** Removes {@code acceptor} if it is still the one bound (a newer version may have replaced it). */
  static void unbind(EventLoop loop, String name, Acceptor acceptor) {
    Map<String, Acceptor> m = BY_LOOP.get(loop);
    if (m != null) {
      m.remove(name, acceptor);
    }
  }

  static @Nullable Acceptor find(EventLoop loop, String name) {
    Map<String, Acceptor> m = BY_LOOP.get(loop);
    return m == null ? null : m.get(name);
  }

  /** Forgets every listener of these loops (server exit). */
  static void forget(Set<EventLoop> loops) {
    loops.forEach(BY_LOOP::remove);
  }

  private static final Set<ChannelOption<?>> KEPT =
      Set.of(ChannelOption.ALLOCATOR, ChannelOption.RCVBUF_ALLOCATOR, ChannelOption.WRITE_BUFFER_WATER_MARK,
          ChannelOption.CONNECT_TIMEOUT_MILLIS, ChannelOption.AUTO_READ);

  /**
   * Connects a client bootstrap made for a worker loop to an internal listener instead of a socket
   * (an upstream host at an {@code envoy_internal_address}); socket options are dropped.
   *
   * @param passthrough metadata the listener's connection gets as dynamic metadata: the host's, as
   *     Istio's {@code internal_upstream} transport socket passes its {@code tunnel} namespace
   */
  @SuppressWarnings("unchecked")
  public static ChannelFuture connect(Bootstrap bootstrap, InternalAddress address, io.envoyproxy.envoy.config.core.v3.Metadata passthrough) {
    var config = bootstrap.config();
    Bootstrap b = new Bootstrap().group(config.group()).channelFactory(() -> new InternalChannel(passthrough));
    config.options().forEach((option, value) -> {
      if (KEPT.contains(option)) {
        b.option((ChannelOption<Object>) option, value);
      }
    });
    config.attrs().forEach((key, value) -> b.attr((io.netty.util.AttributeKey<Object>) key, value));
    if (config.handler() != null) {
      b.handler(config.handler());
    }
    return b.connect((SocketAddress) address);
  }
}
