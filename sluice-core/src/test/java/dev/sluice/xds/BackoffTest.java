package dev.sluice.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void ceilingDoublesUpToTheMaximumAndResets() {
    List<Long> bounds = new ArrayList<>();
    Backoff b = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(30), bound -> {
      bounds.add(bound);
      return bound - 1;
    });
    for (int i = 0; i < 9; i++) {
      b.next();
    }
    assertThat(bounds).containsExactly(500L, 1000L, 2000L, 4000L, 8000L, 16000L, 30000L, 30000L, 30000L);
    b.reset();
    assertThat(b.next()).isEqualTo(Duration.ofMillis(499));
  }
}
