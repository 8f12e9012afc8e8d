package dev.sluice.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Envoy's drainClose rule with an injected clock and randomness. */
class DrainDecisionTest {
  private static final long SECOND = 1_000_000_000L;
  private final AtomicLong now = new AtomicLong(1_000 * SECOND);

  private DrainDecision gradual(long drainSeconds, long random) {
    return DrainDecision.start(DrainDecision.Strategy.GRADUAL, Duration.ofSeconds(drainSeconds), now::get, () -> random);
  }

  /** How many of the random values 0..drainSeconds-1 close at the current time. */
  private long closingShare(long drainSeconds, long startNanos) {
    long closing = 0;
    for (long r = 0; r < drainSeconds; r++) {
      long at = now.get();
      now.set(startNanos);
      DrainDecision d = gradual(drainSeconds, r);
      now.set(at);
      if (d.drainClose()) {
        closing++;
      }
    }
    return closing;
  }

  @Test
  void immediateAlwaysCloses() {
    DrainDecision d = DrainDecision.start(DrainDecision.Strategy.IMMEDIATE, Duration.ofSeconds(600), now::get, () -> 599);
    assertThat(d.immediate()).isTrue();
    assertThat(d.drainClose()).isTrue();
  }

  @Test
  void gradualGrowsLinearlyOverTheDrainTimeInWholeSeconds() {
    long start = now.get();
    // Exactly at the start nothing has elapsed; a moment later the remaining time truncates to
    // 9 s, so 1 of 10 random values closes, and so on each whole second.
    assertThat(closingShare(10, start)).isZero();
    now.set(start + 1);
    assertThat(closingShare(10, start)).isEqualTo(1);
    now.set(start + SECOND / 2);
    assertThat(closingShare(10, start)).isEqualTo(1);
    now.set(start + 4 * SECOND + SECOND / 2);
    assertThat(closingShare(10, start)).isEqualTo(5);
    now.set(start + 9 * SECOND);
    assertThat(closingShare(10, start)).isEqualTo(9);
    now.set(start + 9 * SECOND + 1);
    assertThat(closingShare(10, start)).isEqualTo(10);
  }

  @Test
  void theRandomValueIsTakenModuloTheDrainSeconds() {
    DrainDecision one = gradual(600, 600 * 7 + 1); // 1 after the modulo
    DrainDecision zero = gradual(600, 600 * 7);
    DrainDecision negative = gradual(600, -1); // unsigned: (2^64 - 1) % 600 = 15
    now.addAndGet(1);
    assertThat(one.drainClose()).isFalse(); // elapsed 1 is not > 1
    assertThat(zero.drainClose()).isTrue(); // elapsed 1 > 0
    assertThat(negative.drainClose()).isFalse();
    now.addAndGet(15 * SECOND);
    assertThat(negative.drainClose()).isTrue(); // elapsed 16 > 15
  }

  @Test
  void pastTheDeadlineOrWithoutDrainTimeAlwaysCloses() {
    DrainDecision d = gradual(10, 9);
    assertThat(d.drainClose()).isFalse();
    now.addAndGet(10 * SECOND);
    assertThat(d.drainClose()).isTrue();
    assertThat(gradual(0, 123).drainClose()).isTrue();
    assertThat(gradual(10, 9).immediate()).isFalse();
  }
}
