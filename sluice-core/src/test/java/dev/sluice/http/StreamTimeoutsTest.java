package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StreamTimeoutsTest {
  private final DefaultEventLoop loop = new DefaultEventLoop();
  private final StreamTimeouts timeouts = new StreamTimeouts(loop);
  private final List<String> fired = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() {
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  private StreamTimeouts.Timeout timeout(String name) {
    return new StreamTimeouts.Timeout() {
      @Override
      protected void onTimeout() {
        fired.add(name);
      }
    };
  }

  private void onLoop(Runnable r) throws Exception {
    loop.submit(r).get(5, TimeUnit.SECONDS);
  }

  @Test
  void firesEachTimeoutInDeadlineOrderAndSkipsCancelledOnes() throws Exception {
    StreamTimeouts.Timeout late = timeout("late");
    StreamTimeouts.Timeout early = timeout("early");
    StreamTimeouts.Timeout cancelled = timeout("cancelled");
    // The later deadline first: the shared timer must move earlier for the second one.
    onLoop(() -> {
      timeouts.schedule(late, TimeUnit.MILLISECONDS.toNanos(120));
      timeouts.schedule(early, TimeUnit.MILLISECONDS.toNanos(20));
      timeouts.schedule(cancelled, TimeUnit.MILLISECONDS.toNanos(60));
      timeouts.cancel(cancelled);
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == 2);
    assertThat(fired).containsExactly("early", "late");
    assertThat(late.scheduled()).isFalse();
    assertThat(cancelled.scheduled()).isFalse();
  }

  @Test
  void aRescheduledTimeoutFiresAtItsNewDeadlineOnce() throws Exception {
    StreamTimeouts.Timeout t = timeout("t");
    StreamTimeouts.Timeout marker = timeout("marker");
    onLoop(() -> {
      timeouts.schedule(t, TimeUnit.MILLISECONDS.toNanos(10));
      timeouts.schedule(t, TimeUnit.MILLISECONDS.toNanos(80));
      timeouts.schedule(marker, TimeUnit.MILLISECONDS.toNanos(40));
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == 2);
    assertThat(fired).containsExactly("marker", "t");
  }

  @Test
  void aHandlerCancellingAnotherDueTimeoutStopsIt() throws Exception {
    // Two timeouts due in the same run, each cancelling the other (as a stream's route timeout
    // ends the stream and so cancels its idle timeout): whichever runs first, the other must not.
    StreamTimeouts.Timeout[] pair = new StreamTimeouts.Timeout[2];
    for (int i = 0; i < 2; i++) {
      int self = i;
      pair[i] = new StreamTimeouts.Timeout() {
        @Override
        protected void onTimeout() {
          fired.add("pair");
          timeouts.cancel(pair[1 - self]);
        }
      };
    }
    StreamTimeouts.Timeout marker = timeout("marker");
    onLoop(() -> {
      timeouts.schedule(pair[0], 0);
      timeouts.schedule(pair[1], 0);
      timeouts.schedule(marker, TimeUnit.MILLISECONDS.toNanos(50));
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> fired.contains("marker"));
    assertThat(fired).containsExactly("pair", "marker");
  }

  @Test
  void closeStopsEverything() throws Exception {
    onLoop(() -> {
      timeouts.schedule(timeout("a"), TimeUnit.MILLISECONDS.toNanos(10));
      timeouts.close();
    });
    StreamTimeouts.Timeout marker = timeout("marker");
    StreamTimeouts other = new StreamTimeouts(loop);
    onLoop(() -> other.schedule(marker, TimeUnit.MILLISECONDS.toNanos(60)));
    await().atMost(Duration.ofSeconds(5)).until(() -> fired.contains("marker"));
    assertThat(fired).containsExactly("marker");
  }
}
