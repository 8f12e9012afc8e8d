package dev.sluice.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short system commands (ip, iptables, curl) and returns what they printed. */
public final class Commands {
  private Commands() {}

  /** The outcome of one command: exit code and combined output. */
  public record Result(int exitCode, String output) {
    public Result orThrow(List<String> command) {
      if (exitCode != 0) {
        throw new IllegalStateException(String.join(" ", command) + " exited " + exitCode + ": " + output.strip());
      }
      return this;
    }
  }

  public static Result run(Duration timeout, List<String> command) {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish in " + timeout);
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + command, e);
    }
  }

  /** Runs and requires exit code 0. */
  public static String check(String... command) {
    List<String> cmd = List.of(command);
    return run(Duration.ofSeconds(30), cmd).orThrow(cmd).output();
  }

  /** True when {@code name} is an executable on the PATH. */
  public static boolean onPath(String name) {
    return run(Duration.ofSeconds(5), List.of("sh", "-c", "command -v " + name)).exitCode() == 0;
  }

  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name")) || run(Duration.ofSeconds(5), List.of("id", "-u")).output().strip().equals("0");
  }
}
