package dev.sluice.mesh.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Children get their environment and log file, and {@code stopAll} ends every one of them. */
class ChildProcessesTest {
  @TempDir Path dir;

  @Test
  void startsWithEnvironmentAndLogAndStopsThemAll() throws Exception {
    ChildProcesses processes = new ChildProcesses();
    DemoPlan.Child talker = new DemoPlan.Child("talker", List.of("sh", "-c", "echo \"$HOSTNAME $SLUICE_JVM_OPTS\"; exec sleep 60"),
        Map.of("HOSTNAME", "reviews-v2"), dir.resolve("talker.log"), URI.create("http://127.0.0.1:1/"), null);
    DemoPlan.Child sleeper = new DemoPlan.Child("sleeper", List.of("sleep", "60"), Map.of(), dir.resolve("sleeper.log"),
        URI.create("http://127.0.0.1:1/"), null);
    ChildProcesses.Started a = processes.start(talker, dir, List.of("-Xmx96m"));
    ChildProcesses.Started b = processes.start(sleeper, dir, List.of());
    assertThat(processes.count()).isEqualTo(2);
    org.awaitility.Awaitility.await().until(() -> Files.readString(dir.resolve("talker.log")).equals("reviews-v2 -Xmx96m\n"));

    processes.stopAll();
    assertThat(a.process().isAlive()).isFalse();
    assertThat(b.process().isAlive()).isFalse();
    assertThat(processes.count()).isZero();
  }
}
