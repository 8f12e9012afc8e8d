package dev.sluice.listener;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's epoll {@link IoHandler} with its empty interest set handled correctly. When a channel
 * stops watching every event, Netty 4.2 (through 4.2.20) deletes its fd from epoll but still treats
 * it as added, so the channel's next interest, typically EPOLLOUT once the socket send buffer fills,
 * is an EPOLL_CTL_MOD that fails with ENOENT; Netty then shuts the channel's output down and drops
 * every byte it had queued, and the peer sees a clean FIN after a truncated stream. A TCP socket
 * only gets there after its input was shut down (the peer's FIN seen with half-closure allowed:
 * tcp_proxy), so a proxied response larger than the socket buffers was cut short whenever the
 * client had half-closed first. Here an empty interest set cancels the registration (the fd leaves
 * epoll) and the next non-empty one registers the handle again, which adds the fd back.
 */
final class ReregisteringEpollIoHandler implements IoHandler {
  private static final Logger log = LoggerFactory.getLogger(ReregisteringEpollIoHandler.class);

  private final IoHandler epoll;
  private final ThreadAwareExecutor executor;
  private final IoOps none;
  /** Registrations whose fd is out of epoll for now; touched on the loop only. */
  private final Set<Registration> parked = new HashSet<>();

  private ReregisteringEpollIoHandler(IoHandler epoll, ThreadAwareExecutor executor, IoOps none) {
    this.epoll = epoll;
    this.executor = executor;
    this.none = none;
  }

  /** @param none the epoll transport's empty interest set ({@code EpollIoOps.NONE}) */
  static IoHandlerFactory factory(IoHandlerFactory epoll, IoOps none) {
    return new IoHandlerFactory() {
      @Override
      public IoHandler newHandler(ThreadAwareExecutor executor) {
        return new ReregisteringEpollIoHandler(epoll.newHandler(executor), executor, none);
      }

      @Override
      public boolean isChangingThreadSupported() {
        return epoll.isChangingThreadSupported();
      }
    };
  }

  @Override
  public void initialize() {
    epoll.initialize();
  }

  @Override
  public int run(IoHandlerContext context) {
    return epoll.run(context);
  }

  @Override
  public void prepareToDestroy() {
    // The epoll handler closes the handles it has registered; the parked ones are closed here.
    for (Registration r : List.copyOf(parked)) {
      r.cancel();
      try {
        r.handle.close();
      } catch (Exception e) {
        log.debug("closing {} failed", r.handle, e);
      }
    }
    epoll.prepareToDestroy();
  }

  @Override
  public void destroy() {
    epoll.destroy();
  }

  @Override
  public IoRegistration register(IoHandle handle) throws Exception {
    return new Registration(handle, epoll.register(handle));
  }

  @Override
  public void wakeup() {
    epoll.wakeup();
  }

  @Override
  public boolean isCompatible(Class<? extends IoHandle> handleType) {
    return epoll.isCompatible(handleType);
  }

  /** A handle's registration that outlives the epoll registrations it is made of. */
  private final class Registration implements IoRegistration {
    final IoHandle handle;
    private final Object attachment;
    /** The live epoll registration, or null while parked (nothing to watch). */
    private @Nullable IoRegistration registered;
    private boolean cancelled;

    Registration(IoHandle handle, IoRegistration registered) {
      this.handle = handle;
      this.registered = registered;
      this.attachment = registered.attachment();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T attachment() {
      return (T) attachment;
    }

    // Called on the loop (channels change their interest there).
    @Override
    public synchronized long submit(IoOps ops) {
      if (cancelled) {
        return -1;
      }
      IoRegistration r = registered;
      if (none.equals(ops)) {
        if (r != null) {
          registered = null;
          parked.add(this);
          r.cancel();
        }
        return 0;
      }
      if (r == null) {
        try {
          r = epoll.register(handle);
        } catch (Exception e) {
          throw new UncheckedIOException(e instanceof IOException io ? io : new IOException(e));
        }
        registered = r;
        parked.remove(this);
      }
      return r.submit(ops);
    }

    @Override
    public synchronized boolean isValid() {
      return !cancelled;
    }

    @Override
    public synchronized boolean cancel() {
      if (cancelled) {
        return false;
      }
      cancelled = true;
      IoRegistration r = registered;
      registered = null;
      if (executor.isExecutorThread(Thread.currentThread())) {
        parked.remove(this);
      } else {
        executor.execute(() -> parked.remove(this));
      }
      if (r != null) {
        r.cancel();
      }
      return true;
    }
  }
}
