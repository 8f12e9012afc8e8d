package dev.sluice.listener;

import dev.sluice.api.network.DownstreamConnection;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import java.net.UnixDomainSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The N worker event loops ({@code --concurrency}). Each downstream connection and every upstream
 * connection it opens live on one of them. Epoll when the native transport loads, NIO otherwise.
 */
public final class Workers implements DownstreamConnection.UpstreamBootstrapFactory, AutoCloseable {
  private final boolean epoll;
  private final MultiThreadIoEventLoopGroup group;
  private final EventLoop[] loops;

  /** Workers on the best transport available: epoll when the native library loads. */
  public Workers(int concurrency) {
    this(concurrency, NativeTransport.epollAvailable());
  }

  /**
   * @param useEpoll false forces NIO (tests of the fallback path); true requires epoll
   */
  public Workers(int concurrency, boolean useEpoll) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
    }
    if (useEpoll && !NativeTransport.epollAvailable()) {
      throw new IllegalStateException("epoll transport unavailable");
    }
    this.epoll = useEpoll;
    this.group =
        new MultiThreadIoEventLoopGroup(
            concurrency,
            new DefaultThreadFactory("sluice-worker"),
            useEpoll ? NativeTransport.epollHandlerFactory() : NioIoHandler.newFactory());
    List<EventLoop> list = new ArrayList<>(concurrency);
    for (EventExecutor e : group) {
      list.add((EventLoop) e);
    }
    this.loops = list.toArray(EventLoop[]::new);
  }

  /** True when the native epoll transport loads on this machine. */
  public static boolean epollAvailable() {
    return NativeTransport.epollAvailable();
  }

  public int concurrency() {
    return loops.length;
  }

  /** True on the epoll transport, which supports one SO_REUSEPORT acceptor per worker. */
  public boolean epoll() {
    return epoll;
  }

  public EventLoop loop(int index) {
    return loops[index];
  }

  /** The worker index of {@code loop}, or -1 when it is not one of these workers. */
  public int indexOf(EventLoop loop) {
    for (int i = 0; i < loops.length; i++) {
      if (loops[i] == loop) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Runs {@code then} on {@code executor} once every worker has finished the task it is running
   * now (a grace period, as RCU's). A worker looks a request's route up in the route table it took
   * and its cluster up in the cluster map within one task; so once this has run, no worker can
   * still hold a route table published before the call while reading a cluster map published after
   * it. A loop that no longer takes tasks (shut down) counts as passed.
   */
  public void afterCurrentTasks(Runnable then, java.util.concurrent.Executor executor) {
    java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(loops.length);
    Runnable passed = () -> {
      if (left.decrementAndGet() == 0) {
        try {
          executor.execute(then);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          // The server is shutting down: nothing is left to remove anything from.
        }
      }
    };
    for (EventLoop loop : loops) {
      try {
        loop.execute(passed);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        passed.run();
      }
    }
  }

  /** All worker loops as one group (the NIO fallback hands accepted channels to it round robin). */
  public EventLoopGroup group() {
    return group;
  }

  public Class<? extends ServerChannel> serverChannelClass() {
    return epoll ? NativeTransport.epollServerChannel() : NioServerSocketChannel.class;
  }

  public Class<? extends SocketChannel> clientChannelClass() {
    return epoll ? NativeTransport.epollSocketChannel() : NioSocketChannel.class;
  }

  /** A client bootstrap on {@code loop}: TCP_NODELAY, pooled allocator, this transport's channel. */
  @Override
  public Bootstrap create(EventLoop loop) {
    return new Bootstrap()
        .group(loop)
        .channel(clientChannelClass())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT);
  }

  /**
   * Connects a client bootstrap made by {@link #create} to a Unix domain socket (an upstream pipe
   * host) instead of TCP: the domain socket channel of the bootstrap's loop transport (epoll's, or
   * the JDK's on NIO) and no TCP option.
   */
  @SuppressWarnings("unchecked")
  public static ChannelFuture connectDomainSocket(Bootstrap bootstrap, DomainSocketAddress address) {
    var config = bootstrap.config();
    EventLoopGroup loop = config.group();
    boolean nio = loop instanceof IoEventLoopGroup g && g.isIoType(NioIoHandler.class);
    // A bootstrap's channel is set once: copy the rest onto a new one.
    Bootstrap b = new Bootstrap()
        .group(loop)
        .channel(nio ? NioDomainSocketChannel.class : NativeTransport.epollDomainSocketChannel());
    config.options().forEach((option, value) -> {
      if (option != ChannelOption.TCP_NODELAY) {
        b.option((ChannelOption<Object>) option, value);
      }
    });
    config.attrs().forEach((key, value) -> b.attr((io.netty.util.AttributeKey<Object>) key, value));
    if (config.handler() != null) {
      b.handler(config.handler());
    }
    return b.connect(nio ? UnixDomainSocketAddress.of(address.path()) : address);
  }

  /** Stops the loops; the returned future completes when their threads have ended. */
  public Future<?> shutdownGracefully() {
    return group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    shutdownGracefully().syncUninterruptibly();
  }
}
