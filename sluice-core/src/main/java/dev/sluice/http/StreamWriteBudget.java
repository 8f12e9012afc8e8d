package dev.sluice.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelPromise;

/**
 * Per-stream write backpressure for HTTP/2: counts the bytes handed to Netty for one stream until
 * their write completes, unwritable above the high watermark and writable again below the low one.
 * (Netty's flow-controller writability listener re-checks only on WINDOW_UPDATE, so a stream whose
 * queue drains without a further update would never be reported writable again.)
 */
public final class StreamWriteBudget {
  private final long high;
  private final long low;
  private final Runnable onWritable;
  private long queued;
  private boolean writable = true;

  /** @param onWritable called (on the event loop) when the stream becomes writable again */
  public StreamWriteBudget(long highWatermark, Runnable onWritable) {
    this.high = Math.max(1, highWatermark);
    this.low = high / 2;
    this.onWritable = onWritable;
  }

  /** Accounts {@code bytes} now being written with {@code promise}; returns the promise. */
  public ChannelPromise track(int bytes, ChannelPromise promise) {
    if (bytes == 0) {
      return promise;
    }
    queued += bytes;
    if (queued > high) {
      writable = false;
    }
    promise.addListener((ChannelFutureListener) f -> written(bytes));
    return promise;
  }

  private void written(int bytes) {
    queued -= bytes;
    if (!writable && queued <= low) {
      writable = true;
      onWritable.run();
    }
  }

  public boolean writable() {
    return writable;
  }
}
