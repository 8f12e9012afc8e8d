package dev.sluice.mesh.demo;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Stops processes this JVM started, by pid: SIGTERM to all at once, then SIGKILL for any still
 * alive when one shared grace period has passed. Shared by the demo's local children and its
 * network-namespace pods.
 */
public final class ChildStop {
  private ChildStop() {}

  /** Returns once every process has exited (or been killed). */
  public static void stopAll(List<Process> processes, long graceMs) {
    processes.forEach(Process::destroy);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMs);
    for (Process p : processes) {
      try {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
          p.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }
}
