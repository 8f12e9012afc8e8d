package dev.sluice.http;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A timeout that is re-armed and disarmed by moving a deadline, not by scheduling and cancelling
 * an event-loop task each time (one task allocation and two priority-queue operations per
 * request for a keep-alive connection's idle timer). At most one task is pending: when it runs
 * before the current deadline it schedules itself for the rest; when the timer is disarmed it
 * does nothing. {@link #cancel()} removes the pending task (when the owner is closed). Used on the
 * owner's event loop only.
 */
public final class DeadlineTimer {
  private final EventExecutor loop;
  private final Runnable onExpiry;
  private final Runnable check = this::onTask;
  private @Nullable ScheduledFuture<?> pending;
  private long pendingAtNanos;
  private long deadlineNanos;
  private boolean armed;

  public DeadlineTimer(EventExecutor loop, Runnable onExpiry) {
    this.loop = loop;
    this.onExpiry = onExpiry;
  }

  /** Fires {@code onExpiry} after {@code timeoutNanos} unless re-armed or disarmed before. */
  public void arm(long timeoutNanos) {
    long now = System.nanoTime();
    armAt(now, now + timeoutNanos);
  }

  /**
   * Fires {@code onExpiry} at {@code deadlineNanos} ({@link System#nanoTime()} time) or earlier:
   * an earlier deadline already armed stays, so several deadlines can share this timer (the
   * owner finds which are due when it fires).
   */
  public void armNoLaterThan(long now, long deadlineNanos) {
    if (armed && deadlineNanos - this.deadlineNanos >= 0) {
      return;
    }
    armAt(now, deadlineNanos);
  }

  private void armAt(long now, long deadlineNanos) {
    long timeoutNanos = deadlineNanos - now;
    this.deadlineNanos = deadlineNanos;
    armed = true;
    if (pending != null && pendingAtNanos - deadlineNanos > 0) {
      // The deadline moved earlier than the pending task: that task would fire late.
      pending.cancel(false);
      pending = null;
    }
    if (pending == null) {
      schedule(timeoutNanos, now);
    }
  }

  public void disarm() {
    armed = false;
  }

  /** Disarms and removes the pending task. */
  public void cancel() {
    armed = false;
    if (pending != null) {
      pending.cancel(false);
      pending = null;
    }
  }

  private void schedule(long delayNanos, long now) {
    pendingAtNanos = now + delayNanos;
    pending = loop.schedule(check, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void onTask() {
    pending = null;
    if (!armed) {
      return;
    }
    long now = System.nanoTime();
    long remaining = deadlineNanos - now;
    if (remaining > 0) {
      schedule(remaining, now);
      return;
    }
    armed = false;
    onExpiry.run();
  }
}
