package dev.sluice.listener;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * One drain of a listener (Envoy's DrainManagerImpl for {@code --drain-strategy}): whether a
 * connection should be asked to close now. Immutable, shared by every worker; HTTP asks it on each
 * response ({@link #drainClose()}) and, with {@link #immediate()}, closes idle connections at once.
 *
 * <p>{@code gradual}: the chance grows linearly over the drain time, in whole seconds as Envoy
 * counts it: with {@code elapsed = drainSeconds - floor(remaining seconds)}, a connection closes
 * when {@code elapsed > random % drainSeconds}. So within the first second already 1 in
 * {@code drainSeconds} responses closes, and past {@code drainSeconds - 1} seconds all do. A drain time of 0 or a passed deadline always closes. {@code immediate}: always closes.
 */
public final class DrainDecision {
  /** {@code --drain-strategy}. */
  public enum Strategy {
    GRADUAL,
    IMMEDIATE
  }

  private final Strategy strategy;
  private final long drainSeconds;
  private final long deadlineNanos;
  private final LongSupplier nanoClock;
  private final LongSupplier random;

  private DrainDecision(Strategy strategy, Duration drainTime, LongSupplier nanoClock, LongSupplier random) {
    this.strategy = strategy;
    this.drainSeconds = drainTime.toSeconds();
    this.deadlineNanos = nanoClock.getAsLong() + drainTime.toNanos();
    this.nanoClock = nanoClock;
    this.random = random;
  }

  /** A drain starting now (the system's monotonic clock, thread-local randomness). */
  public static DrainDecision start(Strategy strategy, Duration drainTime) {
    return start(strategy, drainTime, System::nanoTime, () -> ThreadLocalRandom.current().nextLong());
  }

  /**
   * A drain starting at {@code nanoClock}'s now.
   *
   * @param nanoClock monotonic nanoseconds (as {@link System#nanoTime()})
   * @param random any 64-bit values (called from every worker: must be thread-safe)
   */
  public static DrainDecision start(Strategy strategy, Duration drainTime, LongSupplier nanoClock, LongSupplier random) {
    return new DrainDecision(strategy, drainTime, nanoClock, random);
  }

  /** True for {@code immediate}: every connection is asked to close when the drain starts. */
  public boolean immediate() {
    return strategy == Strategy.IMMEDIATE;
  }

  /** Whether the connection answering a response now should close (HTTP/1) or GOAWAY (HTTP/2). */
  public boolean drainClose() {
    if (strategy == Strategy.IMMEDIATE) {
      return true;
    }
    long remainingNanos = deadlineNanos - nanoClock.getAsLong();
    if (remainingNanos <= 0 || drainSeconds == 0) {
      return true;
    }
    long elapsedSeconds = drainSeconds - remainingNanos / 1_000_000_000L;
    return elapsedSeconds > Long.remainderUnsigned(random.getAsLong(), drainSeconds);
  }
}
