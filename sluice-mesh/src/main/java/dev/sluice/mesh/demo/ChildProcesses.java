package dev.sluice.mesh.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's child processes. Each is started under {@code setpriv --pdeathsig TERM} when the
 * machine has it, so a child is told to stop even when this JVM dies without running its
 * shutdown hooks (kill -9): no orphans. {@link #stopAll()} stops the ones started here, by pid:
 * SIGTERM, then SIGKILL for any still alive after a grace period.
 *
 * <p>The kernel sends the parent-death signal when the thread that started the child ends, so
 * children must be started from a thread that lives as long as the demo (its main thread).
 */
final class ChildProcesses {
  private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
  private static final long GRACE_MS = 5_000;

  /** A started child. */
  record Started(DemoPlan.Child child, Process process) {}

  private final List<Started> started = new ArrayList<>();

  synchronized Started start(DemoPlan.Child child, Path workDir, List<String> jvmOptions) {
    List<String> command = new ArrayList<>();
    if (Files.isExecutable(SETPRIV)) {
      command.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "TERM", "--"));
    }
    command.addAll(child.command());
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
        .redirectErrorStream(true).redirectOutput(child.log().toFile());
    pb.environment().putAll(child.env());
    if (!jvmOptions.isEmpty() && !pb.environment().containsKey("SLUICE_JVM_OPTS")) {
      pb.environment().put("SLUICE_JVM_OPTS", String.join(" ", jvmOptions));
    }
    try {
      Started s = new Started(child, pb.start());
      started.add(s);
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + child.name() + " (" + String.join(" ", child.command()) + "): "
          + e.getMessage(), e);
    }
  }

  synchronized int count() {
    return started.size();
  }

  /** Stops every child started here; returns once all have exited. */
  synchronized void stopAll() {
    ChildStop.stopAll(started.stream().map(Started::process).toList(), GRACE_MS);
    started.clear();
  }
}
