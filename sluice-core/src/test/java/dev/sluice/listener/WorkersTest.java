package dev.sluice.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WorkersTest {
  @Test
  void afterCurrentTasksWaitsForEveryWorkerToFinishWhatItIsRunning() throws Exception {
    try (Workers workers = new Workers(2)) {
      CountDownLatch busy = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      workers.loop(1).execute(() -> {
        busy.countDown();
        try {
          release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();

      CountDownLatch passed = new CountDownLatch(1);
      workers.afterCurrentTasks(passed::countDown, Runnable::run);
      // Worker 0 is idle and passes at once; worker 1 is still in its task.
      assertThat(passed.await(200, TimeUnit.MILLISECONDS)).isFalse();
      release.countDown();
      assertThat(passed.await(10, TimeUnit.SECONDS)).isTrue();
    }
  }
}
