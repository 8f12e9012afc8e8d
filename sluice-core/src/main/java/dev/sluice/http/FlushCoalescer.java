package dev.sluice.http;

import io.netty.util.concurrent.EventExecutor;

/**
 * Coalesces the writes of one event-loop turn into one flush (one {@code writev}): the first write
 * of a turn schedules a flush task; later writes in the same turn find it pending. Shared by the
 * downstream and upstream codec handlers; confined to their event loop.
 */
public final class FlushCoalescer {
  private final Runnable task;
  private boolean scheduled;

  /** @param flush one flush: {@code ctx.flush()}, or an HTTP/2 handler's own {@code flush(ctx)} */
  public FlushCoalescer(Runnable flush) {
    this.task = () -> {
      scheduled = false;
      flush.run();
    };
  }

  /** Makes sure a flush runs on {@code loop} after the current task. */
  public void schedule(EventExecutor loop) {
    if (!scheduled) {
      scheduled = true;
      loop.execute(task);
    }
  }
}
