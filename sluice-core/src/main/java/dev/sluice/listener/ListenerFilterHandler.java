package dev.sluice.listener;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.ListenerFilter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The head of every accepted channel until a filter chain is installed (Envoy's ActiveTcpSocket):
 * runs the listener's listener filters in order, holding the bytes they peek at, then asks the
 * listener to choose a filter chain, installs it, removes itself and replays the held bytes (and a
 * half-close seen meanwhile) into the new pipeline. {@code channelActive} is held back and fired
 * after installation, so network filters see the usual lifecycle. Confined to the worker loop.
 */
final class ListenerFilterHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ListenerFilterHandler.class);

  private ActiveListener listener;
  private final DownstreamConnection connection;
  private List<ListenerFilterEntry> entries;
  private @Nullable ListenerFilter current;
  private int index = -1;
  private boolean waitingForData;
  private boolean inputShutdown;
  private boolean finished;
  private boolean preConnectionCounted;
  private @Nullable ByteBuf held;
  private io.netty.util.concurrent.@Nullable ScheduledFuture<?> timeout;
  private @Nullable ChannelHandlerContext ctx;

  ListenerFilterHandler(ActiveListener listener, DownstreamConnection connection) {
    this.listener = listener;
    this.connection = connection;
    this.entries = listener.listenerFilters();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    // Seen as a user event while listener filters peek; the chosen chain decides afterwards.
    ctx.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    // Held back: fired after the filter chain is installed.
    listener.stats().downstreamPreCxActive.inc();
    preConnectionCounted = true;
    next();
  }

  /** Starts over on another listener ({@code use_original_dst} hand-off), keeping the held bytes. */
  void handOff(ActiveListener target) {
    cancelTimeout();
    leavePreConnection();
    listener = target;
    entries = target.listenerFilters();
    index = -1;
    current = null;
    waitingForData = false;
    target.stats().downstreamPreCxActive.inc();
    preConnectionCounted = true;
    next();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (finished || !(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (held == null) {
      held = ctx.alloc().buffer(Math.max(buf.readableBytes(), 256));
    }
    held.writeBytes(buf);
    buf.release();
    if (waitingForData) {
      peek();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent && !finished) {
      inputShutdown = true;
      if (waitingForData) {
        peek();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    release();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (!finished) {
      release();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("connection {} failed during listener filters", connection.id, cause);
    ctx.close();
  }

  // Advances to the next enabled filter and runs it; finishes when none is left.
  private void next() {
    while (++index < entries.size()) {
      ListenerFilterEntry entry = entries.get(index);
      if (entry.disabled().test(connection)) {
        continue;
      }
      ListenerFilter filter = entry.supplier().get();
      ListenerFilter.Status status = filter.onAccept(connection);
      if (status == ListenerFilter.Status.CLOSE) {
        fail(false);
        return;
      }
      if (filter.maxReadBytes() > 0) {
        current = filter;
        waitingForData = true;
        startTimeout();
        if ((held != null && held.isReadable()) || inputShutdown) {
          peek();
        }
        return;
      }
    }
    finish();
  }

  private void peek() {
    ListenerFilter filter = current;
    if (filter == null) {
      return;
    }
    ByteBuf view = held == null ? io.netty.buffer.Unpooled.EMPTY_BUFFER : held.duplicate();
    ListenerFilter.Status status = filter.onData(view, connection, inputShutdown);
    switch (status) {
      case CONTINUE -> {
        waitingForData = false;
        current = null;
        next();
      }
      case CLOSE -> fail(false);
      case NEED_MORE_DATA -> {
        if (inputShutdown) {
          fail(true);
        } else if (held != null && held.readableBytes() >= filter.maxReadBytes()) {
          // More than the filter may look at, and it still cannot decide.
          fail(false);
        }
      }
    }
  }

  private void startTimeout() {
    long millis = listener.listenerFiltersTimeoutMillis();
    if (timeout == null && millis > 0 && ctx != null) {
      timeout = ctx.executor().schedule(this::onTimeout, millis, TimeUnit.MILLISECONDS);
    }
  }

  private void onTimeout() {
    timeout = null;
    if (finished) {
      return;
    }
    listener.stats().downstreamPreCxTimeout.inc();
    if (listener.continueOnListenerFiltersTimeout()) {
      current = null;
      waitingForData = false;
      finish();
    } else {
      finished = true;
      connection.channel.close();
    }
  }

  private void fail(boolean remoteClose) {
    finished = true;
    (remoteClose ? listener.stats().downstreamListenerFilterRemoteClose : listener.stats().downstreamListenerFilterError).inc();
    connection.channel.close();
  }

  private void finish() {
    cancelTimeout();
    if (listener.useOriginalDst() && connection.localAddressRestored) {
      ActiveListener target = listener.manager().findByAddress(connection.localAddress);
      if (target != null && target != listener) {
        handOff(target);
        return;
      }
    }
    finished = true;
    leavePreConnection();
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    FilterChain chain = listener.matchFilterChain(connection);
    if (chain == null) {
      log.debug("connection {}: no filter chain matched on listener {}", connection.id, listener.name());
      listener.stats().noFilterChainMatch.inc();
      c.close();
      return;
    }
    c.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
    listener.onConnectionEstablished(connection);
    ByteBuf bytes = held;
    held = null;
    c.pipeline().remove(this);
    try {
      chain.install(connection);
    } catch (RuntimeException e) {
      log.error("connection {}: filter chain '{}' failed to install", connection.id, chain.name(), e);
      if (bytes != null) {
        bytes.release();
      }
      c.channel().close();
      return;
    }
    c.pipeline().fireChannelActive();
    if (bytes != null) {
      if (bytes.isReadable()) {
        c.pipeline().fireChannelRead(bytes);
        c.pipeline().fireChannelReadComplete();
      } else {
        bytes.release();
      }
    }
    if (inputShutdown) {
      // As Netty would have done at EOF: a half-close for chains that allow it, else a close.
      if (Boolean.TRUE.equals(c.channel().config().getOption(ChannelOption.ALLOW_HALF_CLOSURE))) {
        c.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
      } else {
        c.channel().close();
      }
    }
  }

  private void cancelTimeout() {
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
  }

  private void leavePreConnection() {
    if (preConnectionCounted) {
      preConnectionCounted = false;
      listener.stats().downstreamPreCxActive.dec();
    }
  }

  private void release() {
    cancelTimeout();
    leavePreConnection();
    finished = true;
    if (held != null) {
      held.release();
      held = null;
    }
  }
}
