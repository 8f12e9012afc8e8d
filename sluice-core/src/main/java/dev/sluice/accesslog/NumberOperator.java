package dev.sluice.accesslog;

import dev.sluice.api.stream.StreamInfo;
import java.util.function.ToLongFunction;

/** An operator with an integer value (bytes, durations, codes); a negative value means absent. */
final class NumberOperator extends CommandOperator {
  private final ToLongFunction<StreamInfo> value;

  NumberOperator(ToLongFunction<StreamInfo> value) {
    this.value = value;
  }

  @Override
  boolean append(StreamInfo info, StringBuilder out) {
    long v = value.applyAsLong(info);
    if (v < 0) {
      return false;
    }
    out.append(v);
    return true;
  }

  @Override
  boolean numeric() {
    return true;
  }

  /** Milliseconds between two nanoTime readings, or -1 when either is unknown (0). */
  static long millisBetween(long fromNanos, long toNanos) {
    if (fromNanos == 0 || toNanos == 0) {
      return -1;
    }
    return Math.max(0, (toNanos - fromNanos) / 1_000_000L);
  }
}
