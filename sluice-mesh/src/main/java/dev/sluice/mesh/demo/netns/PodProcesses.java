package dev.sluice.mesh.demo.netns;

import dev.sluice.mesh.demo.ChildStop;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The processes running in the pods: each started as {@code ip netns exec NS setpriv --reuid=U
 * --regid=U --clear-groups --pdeathsig TERM -- COMMAND}. {@code ip netns exec} and setpriv both
 * exec, so the process this JVM holds is the program itself and {@link #stopAll()} stops it by
 * pid (SIGTERM, SIGKILL after a grace period). setpriv sets the parent-death signal after
 * changing the uid (a uid change clears it), so a child is told to stop even when this JVM is
 * killed without its shutdown hooks. The kernel sends that signal when the thread that started
 * the child ends: start children from a thread that lives as long as the demo.
 */
final class PodProcesses {
  private static final long GRACE_MS = 5_000;

  /** A started process, named for messages, with its log. */
  record Started(String name, Process process, Path log) {}

  private final List<Started> started = new ArrayList<>();

  synchronized Started start(String name, String ns, int uid, List<String> command, Map<String, String> env, Path cwd, Path log) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, "setpriv", "--reuid=" + uid, "--regid=" + uid,
        "--clear-groups", "--pdeathsig", "TERM", "--"));
    cmd.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    try {
      Started s = new Started(name, pb.start(), log);
      started.add(s);
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + " (" + String.join(" ", cmd) + "): " + e.getMessage(), e);
    }
  }

  synchronized int count() {
    return started.size();
  }

  /** Stops every process started here; returns once all have exited. */
  synchronized void stopAll() {
    ChildStop.stopAll(started.stream().map(Started::process).toList(), GRACE_MS);
    started.clear();
  }
}
