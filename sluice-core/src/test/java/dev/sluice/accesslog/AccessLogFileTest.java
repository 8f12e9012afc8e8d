package dev.sluice.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.api.config.ConfigException;
import dev.sluice.stats.StatsStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogFileTest {
  @TempDir Path dir;
  private final StatsStore stats = new StatsStore();
  private final List<AccessLogFileManager> managers = new ArrayList<>();

  private AccessLogFileManager manager(Duration interval, long maxChars) {
    AccessLogFileManager m = new AccessLogFileManager(stats, interval, maxChars);
    managers.add(m);
    return m;
  }

  @AfterEach
  void closeManagers() {
    managers.forEach(AccessLogFileManager::close);
  }

  @Test
  void linesFromManyThreadsAreCompleteAndInPerThreadOrder() throws Exception {
    Path file = dir.resolve("access.log");
    AccessLogFileManager m = manager(Duration.ofMillis(20), AccessLogFileManager.DEFAULT_MAX_BUFFERED_CHARS);
    AccessLogFile log = m.file(file.toString());
    int threads = 4;
    int perThread = 5_000;
    String padding = "x".repeat(60);
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                    } catch (InterruptedException e) {
                      return;
                    }
                    for (int n = 0; n < perThread; n++) {
                      log.write("worker-" + id + " " + n + " " + padding + "\n");
                    }
                  });
      workers.add(w);
    }
    start.countDown();
    for (Thread w : workers) {
      w.join();
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> Files.lines(file).count() == (long) threads * perThread);

    Map<String, Integer> next = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      String[] parts = line.split(" ");
      assertThat(parts).hasSize(3);
      assertThat(parts[2]).isEqualTo(padding);
      int n = Integer.parseInt(parts[1]);
      assertThat(n).as("order of %s", parts[0]).isEqualTo(next.getOrDefault(parts[0], 0));
      next.put(parts[0], n + 1);
    }
    assertThat(next).hasSize(threads).allSatisfy((k, v) -> assertThat(v).isEqualTo(perThread));
    assertThat(stats.counter("filesystem.write_buffered").value()).isEqualTo((long) threads * perThread);
    assertThat(stats.counter("filesystem.write_completed").value()).isPositive();
    assertThat(stats.counter("filesystem.write_dropped").value()).isZero();
    await().until(() -> stats.gauge("filesystem.write_total_buffered").value() == 0);
  }

  @Test
  void smallWritesWaitForTheFlushInterval() throws Exception {
    Path file = dir.resolve("timer.log");
    AccessLogFileManager m = manager(Duration.ofHours(1), AccessLogFileManager.DEFAULT_MAX_BUFFERED_CHARS);
    AccessLogFile log = m.file(file.toString());
    log.write("first\n");
    // Far below 64 KiB with an hour-long interval: nothing is written yet.
    assertThat(Files.readString(file)).isEmpty();
    m.setFlushInterval(Duration.ofMillis(30));
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.readString(file).equals("first\n"));
    assertThat(stats.counter("filesystem.flushed_by_timer").value()).isPositive();
  }

  @Test
  void sixtyFourKibibytesWakeTheWriterBeforeTheTimer() throws Exception {
    Path file = dir.resolve("size.log");
    AccessLogFileManager m = manager(Duration.ofHours(1), AccessLogFileManager.DEFAULT_MAX_BUFFERED_CHARS);
    AccessLogFile log = m.file(file.toString());
    String line = "y".repeat(1023) + "\n";
    for (int i = 0; i < 64; i++) {
      log.write(line);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.size(file) == 64 * 1024);
    assertThat(stats.counter("filesystem.flushed_by_timer").value()).isZero();
  }

  @Test
  void overTheBoundLinesAreDroppedAndCounted() throws Exception {
    Path file = dir.resolve("bounded.log");
    AccessLogFileManager m = manager(Duration.ofHours(1), 100);
    AccessLogFile log = m.file(file.toString());
    for (int i = 0; i < 10; i++) {
      log.write("0123456789012345678\n");
    }
    assertThat(stats.counter("filesystem.write_dropped").value()).isEqualTo(5);
    m.close();
    assertThat(Files.readAllLines(file)).hasSize(5);
  }

  @Test
  void samePathSharesOneWriterAndReopenFollowsRotation() throws Exception {
    Path file = dir.resolve("rotate.log");
    AccessLogFileManager m = manager(Duration.ofMillis(20), AccessLogFileManager.DEFAULT_MAX_BUFFERED_CHARS);
    AccessLogFile log = m.file(file.toString());
    assertThat(m.file(file.toString())).isSameAs(log);
    log.write("before\n");
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && Files.readString(file).equals("before\n"));
    Path rotated = dir.resolve("rotate.log.1");
    Files.move(file, rotated);
    m.reopenAll();
    log.write("after\n");
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && Files.readString(file).equals("after\n"));
    assertThat(Files.readString(rotated)).isEqualTo("before\n");
  }

  @Test
  void unopenablePathIsAConfigError() {
    AccessLogFileManager m = manager(Duration.ofSeconds(1), 1000);
    String path = dir.resolve("no/such/dir/a.log").toString();
    assertThatThrownBy(() -> m.file(path))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("path"))
        .hasMessageContaining("unable to open file");
  }
}
