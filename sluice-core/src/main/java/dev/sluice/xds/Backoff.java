package dev.sluice.xds;

import java.time.Duration;
import java.util.function.LongUnaryOperator;

/**
 * Envoy's jittered exponential back-off for xDS reconnects: attempt n waits a random time in
 * {@code [0, min(base * 2^n, max))}; {@link #reset()} after a stream delivered a response.
 */
public final class Backoff {
  /** Envoy's defaults for gRPC xDS streams: 500 ms base, 30 s cap. */
  public static final Duration BASE = Duration.ofMillis(500);
  public static final Duration MAX = Duration.ofSeconds(30);

  private final long baseMs;
  private final long maxMs;
  private final LongUnaryOperator random;
  private int attempt;

  /** @param random given a bound {@code b > 0}, a value in {@code [0, b)} (tests inject it) */
  public Backoff(Duration base, Duration max, LongUnaryOperator random) {
    this.baseMs = Math.max(1, base.toMillis());
    this.maxMs = Math.max(baseMs, max.toMillis());
    this.random = random;
  }

  public static Backoff jittered() {
    return new Backoff(BASE, MAX, b -> java.util.concurrent.ThreadLocalRandom.current().nextLong(b));
  }

  /** The wait before the next attempt. */
  public Duration next() {
    long ceiling = attempt >= 30 ? maxMs : Math.min(maxMs, baseMs << attempt);
    attempt++;
    return Duration.ofMillis(random.applyAsLong(ceiling));
  }

  public void reset() {
    attempt = 0;
  }
}
