package dev.sluice.listener;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * One end of an in-process connection between an upstream (a cluster host at an
 * {@code envoy_internal_address}) and an internal listener: a channel pair on the client's own event
 * loop, each write handed to the peer as a read on that loop, as Envoy's user-space sockets. Works
 * on any event loop (it registers no I/O handle), unlike Netty's {@code LocalChannel}, which needs
 * its own I/O handler. No half-close: closing one end closes both.
 */
public final class InternalChannel extends AbstractChannel {
  private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

  private final ChannelConfig config = new DefaultChannelConfig(this);
  private final ArrayDeque<Object> inbound = new ArrayDeque<>();
  private @Nullable InternalChannel peer;
  private @Nullable SocketAddress local;
  private @Nullable SocketAddress remote;
  private boolean open = true;
  private boolean active;
  private boolean readPending;
  private boolean delivering;
  /** What the client end hands the listener as dynamic metadata (Envoy's passthrough metadata). */
  private final io.envoyproxy.envoy.config.core.v3.Metadata passthrough;

  /** A client end; {@link InternalListeners#connect} connects it. */
  InternalChannel(io.envoyproxy.envoy.config.core.v3.Metadata passthrough) {
    super(null);
    this.passthrough = passthrough;
  }

  private InternalChannel(InternalChannel client, SocketAddress local, SocketAddress remote) {
    super(null);
    this.passthrough = io.envoyproxy.envoy.config.core.v3.Metadata.getDefaultInstance();
    this.peer = client;
    this.local = local;
    this.remote = remote;
  }

  /** The client end's metadata for the listener's connection. */
  io.envoyproxy.envoy.config.core.v3.Metadata passthrough() {
    return passthrough;
  }

  @Override
  public ChannelConfig config() {
    return config;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public boolean isActive() {
    return active;
  }

  @Override
  public ChannelMetadata metadata() {
    return METADATA;
  }

  @Override
  protected AbstractUnsafe newUnsafe() {
    return new InternalUnsafe();
  }

  @Override
  protected boolean isCompatible(EventLoop loop) {
    return true;
  }

  @Override
  protected @Nullable SocketAddress localAddress0() {
    return local;
  }

  @Override
  protected @Nullable SocketAddress remoteAddress0() {
    return remote;
  }

  @Override
  protected void doBind(SocketAddress localAddress) {
    local = localAddress;
  }

  @Override
  protected void doDisconnect() {
    doClose();
  }

  @Override
  protected void doClose() {
    if (!open) {
      return;
    }
    open = false;
    active = false;
    InternalChannel p = peer;
    if (p != null && p.open && p.isRegistered()) {
      p.eventLoop().execute(() -> p.unsafe().close(p.unsafe().voidPromise()));
    }
    Object m;
    while ((m = inbound.poll()) != null) {
      ReferenceCountUtil.release(m);
    }
  }

  @Override
  protected void doBeginRead() {
    readPending = true;
    deliver();
  }

  @Override
  protected void doWrite(ChannelOutboundBuffer out) throws Exception {
    InternalChannel p = peer;
    if (p == null || !p.open) {
      throw new java.nio.channels.ClosedChannelException();
    }
    for (;;) {
      Object m = out.current();
      if (m == null) {
        break;
      }
      p.inbound.add(ReferenceCountUtil.retain(m));
      out.remove();
    }
    // Always a later task: a write never re-enters the peer's pipeline from inside this one.
    p.eventLoop().execute(p::deliver);
  }

  @Override
  protected Object filterOutboundMessage(Object msg) {
    if (msg instanceof ByteBuf) {
      return msg;
    }
    throw new UnsupportedOperationException("unsupported message type: " + msg.getClass().getSimpleName());
  }

  /** Hands queued bytes to this end's pipeline while reading is wanted (auto-read or read()). */
  private void deliver() {
    if (delivering || !readPending || inbound.isEmpty() || !open) {
      return;
    }
    delivering = true;
    try {
      ChannelPipeline p = pipeline();
      while (readPending && !inbound.isEmpty()) {
        readPending = config.isAutoRead();
        p.fireChannelRead(inbound.poll());
      }
      p.fireChannelReadComplete();
    } finally {
      delivering = false;
    }
  }

  /** Connects a client end to the acceptor of an internal listener on its own loop. */
  private final class InternalUnsafe extends AbstractUnsafe {
    @Override
    public void connect(SocketAddress remoteAddress, @Nullable SocketAddress localAddress, ChannelPromise promise) {
      if (!promise.setUncancellable() || !ensureOpen(promise)) {
        return;
      }
      if (!(remoteAddress instanceof InternalAddress target)) {
        promise.setFailure(new ConnectException("not an internal address: " + remoteAddress));
        return;
      }
      InternalListeners.Acceptor acceptor = InternalListeners.find(eventLoop(), target.listenerName());
      if (acceptor == null) {
        promise.setFailure(new ConnectException("no internal listener named " + target.listenerName()));
        return;
      }
      local = localAddress != null ? localAddress : InternalListeners.CLIENT_ADDRESS;
      remote = target;
      InternalChannel server = new InternalChannel(InternalChannel.this, target, local);
      peer = server;
      active = true;
      server.active = true;
      // The listener installs its handlers first; registering then fires the server end's
      // channelActive, as an accepted socket's.
      acceptor.accept(server, InternalChannel.this);
      eventLoop().register(server).addListener(f -> {
        if (!f.isSuccess()) {
          promise.tryFailure(f.cause());
          close(voidPromise());
          return;
        }
        promise.trySuccess();
        pipeline().fireChannelActive();
      });
    }
  }
}
