package dev.sluice.extensions.filters.http.fault;

import dev.sluice.http.ActiveStream;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The response side of {@code response_rate_limit} for one stream (Envoy's StreamRateLimiter):
 * response bytes are taken out of the filter chain into a queue and written on from the fault
 * filter's position at {@code kbps} KiB/s, a slice every 50 ms on the stream's loop, from a token
 * bucket that holds at most one slice (so a pause never turns into a burst). While the
 * queue holds more than the connection's buffer limit, the stream reports itself not writable, so
 * the router stops reading the upstream (Envoy's watermarks); the end of the response (the last
 * data frame's flag or the trailers) waits in the filter manager until the queue is empty.
 */
final class StreamRateLimiter {
  static final long TICK_MILLIS = 50;

  private final ActiveStream.Slot slot;
  private final long bytesPerTick;
  private final double bytesPerNano;
  /** Bytes that may leave now; refilled by elapsed time, capped at one slice. */
  private double tokens;
  private long refilledNanos = System.nanoTime();
  private final int highWatermark;
  /** The bytes held back: slices of the response's own buffers (no copy), oldest first. */
  private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
  private long queued;
  private @Nullable ScheduledFuture<?> timer;
  private boolean endHeld;
  private boolean aboveWatermark;
  private boolean closed;

  StreamRateLimiter(ActiveStream.Slot slot, long kbps) {
    this.slot = slot;
    this.bytesPerTick = Math.max(1, kbps * 1024 * TICK_MILLIS / 1000);
    this.bytesPerNano = kbps * 1024 / 1e9;
    this.tokens = bytesPerTick;
    this.highWatermark = Math.max(1, slot.connection().bufferLimitBytes);
  }

  /** Takes {@code data}'s bytes (it goes on empty); the first slice leaves at once. */
  void add(ByteBuf data) {
    if (data.isReadable()) {
      queued += data.readableBytes();
      queue.add(data.retainedSlice());
      data.skipBytes(data.readableBytes());
    }
    if (!aboveWatermark && queued > highWatermark) {
      aboveWatermark = true;
      slot.stream().onDownstreamWritabilityChanged(false);
    }
    if (timer == null && queued > 0) {
      tick();
    }
  }

  /** Whether bytes wait: the end of the response must wait for them ({@link #holdEnd()}). */
  boolean pending() {
    return queued > 0;
  }

  /** The filter stopped the response's end; it goes on once the queue is empty. */
  void holdEnd() {
    endHeld = true;
  }

  private void tick() {
    timer = null;
    if (closed) {
      return;
    }
    long now = System.nanoTime();
    tokens = Math.min(bytesPerTick, tokens + (now - refilledNanos) * bytesPerNano);
    refilledNanos = now;
    long budget = (long) tokens;
    tokens -= budget;
    ByteBuf head;
    while (budget > 0 && (head = queue.peek()) != null) {
      ByteBuf out;
      if (head.readableBytes() <= budget) {
        out = queue.poll();
      } else {
        out = head.readRetainedSlice((int) budget);
      }
      budget -= out.readableBytes();
      queued -= out.readableBytes();
      slot.encodeData(out, false);
      if (closed) {
        return; // writing ended the stream (e.g. the client went away)
      }
    }
    tokens += budget;
    if (aboveWatermark && queued <= highWatermark / 2) {
      aboveWatermark = false;
      slot.stream().onDownstreamWritabilityChanged(true);
    }
    if (queued > 0) {
      timer = slot.eventLoop().schedule(this::tick, TICK_MILLIS, TimeUnit.MILLISECONDS);
    } else if (endHeld) {
      endHeld = false;
      slot.continueEncoding();
    }
  }

  /** The stream is over: the timer stops and the queued bytes are dropped. */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    ScheduledFuture<?> t = timer;
    timer = null;
    if (t != null) {
      t.cancel(false);
    }
    ByteBuf b;
    while ((b = queue.poll()) != null) {
      b.release();
    }
    queued = 0;
  }
}
