package dev.sluice.mesh.demo.netns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the short system commands that set up the namespaces ({@code ip}, {@code iptables-restore}). */
final class SystemCommands {
  private static final long TIMEOUT_SECONDS = 30;

  private SystemCommands() {}

  /** Runs {@code command} with {@code input} on its stdin; throws IllegalStateException with its output unless it exits 0. */
  static String check(String input, List<String> command) {
    Result r = run(input, command);
    if (r.exitCode() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed (exit " + r.exitCode() + "): " + r.output().strip());
    }
    return r.output();
  }

  static String check(String... command) {
    return check("", List.of(command));
  }

  /** Exit code and combined output. */
  record Result(int exitCode, String output) {}

  static Result run(String input, List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + String.join(" ", command), e);
    }
  }

  /** True when {@code tool} is an executable file in a directory of PATH (or the sbin directories root has). */
  static boolean onPath(String tool) {
    String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
