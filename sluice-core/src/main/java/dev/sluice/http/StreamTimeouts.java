package dev.sluice.http;

import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The per-stream timeouts of one downstream connection (the stream idle timeout, the router's
 * route timeout) on one {@link DeadlineTimer}, instead of an event-loop task scheduled and
 * cancelled per stream and per timeout. Scheduling links the timeout into an intrusive list and
 * moves the shared deadline earlier if needed; cancelling unlinks it. When the timer fires, the due
 * timeouts run and the timer re-arms for the earliest left. On a keep-alive connection the shared
 * deadline is usually already earlier than the new stream's, so a request costs no scheduling at
 * all; the timer fires about once per timeout period, finds what is due and re-arms. Confined to
 * the connection's event loop.
 */
public final class StreamTimeouts {
  /** One timeout, reusable: schedule, cancel, schedule again. */
  public abstract static class Timeout {
    private long deadlineNanos;
    private @Nullable Timeout prev;
    private @Nullable Timeout next;
    private boolean linked;

    /** Runs on the event loop when the deadline passes; the timeout is no longer scheduled. */
    protected abstract void onTimeout();

    public final boolean scheduled() {
      return linked;
    }
  }

  private final DeadlineTimer timer;
  private @Nullable Timeout head;

  public StreamTimeouts(EventExecutor loop) {
    this.timer = new DeadlineTimer(loop, this::expire);
  }

  /** (Re)schedules {@code t} to fire {@code timeoutNanos} from now. */
  public void schedule(Timeout t, long timeoutNanos) {
    long now = System.nanoTime();
    t.deadlineNanos = now + timeoutNanos;
    if (!t.linked) {
      t.linked = true;
      t.prev = null;
      t.next = head;
      if (head != null) {
        head.prev = t;
      }
      head = t;
    }
    timer.armNoLaterThan(now, t.deadlineNanos);
  }

  /** Unschedules {@code t}; the shared timer stays (it finds nothing due when it fires). */
  public void cancel(Timeout t) {
    if (!t.linked) {
      return;
    }
    t.linked = false;
    Timeout p = t.prev;
    Timeout n = t.next;
    if (p != null) {
      p.next = n;
    } else {
      head = n;
    }
    if (n != null) {
      n.prev = p;
    }
    t.prev = null;
    t.next = null;
  }

  /** The connection closed: no timeout fires any more. */
  public void close() {
    while (head != null) {
      cancel(head);
    }
    timer.cancel();
  }

  private void expire() {
    long now = System.nanoTime();
    List<Timeout> due = null;
    boolean more = false;
    long next = 0;
    for (Timeout t = head; t != null; t = t.next) {
      if (t.deadlineNanos - now <= 0) {
        if (due == null) {
          due = new ArrayList<>(2);
        }
        due.add(t);
      } else if (!more || t.deadlineNanos - next < 0) {
        more = true;
        next = t.deadlineNanos;
      }
    }
    if (more) {
      timer.armNoLaterThan(now, next);
    }
    if (due != null) {
      for (Timeout t : due) {
        // An earlier timeout's handler may have cancelled or rescheduled this one.
        if (t.linked && t.deadlineNanos - now <= 0) {
          cancel(t);
          t.onTimeout();
        }
      }
    }
  }
}
