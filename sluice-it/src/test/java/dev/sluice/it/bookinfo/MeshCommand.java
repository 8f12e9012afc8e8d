package dev.sluice.it.bookinfo;

import dev.sluice.it.Commands;
import dev.sluice.it.Distribution;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real CLI ({@code bin/sluice apply -f}, {@code status}, {@code get}) as a process against
 * the demo's control plane (its API on {@code --server}), and what its output says about the
 * configuration in force.
 */
final class MeshCommand {
  private static final Pattern VERSION = Pattern.compile("(?m)^version (\\d+)$");
  private static final Pattern CONTROL_PLANE_VERSION = Pattern.compile("(?m)^control plane version (\\d+)$");
  private static final Pattern CELL = Pattern.compile("SYNCED \\(v(\\d+)\\)|STALE|NOT SENT");

  /** The demo's proxies: every one must have ACKed a configuration for it to be in effect. */
  private static final int PROXIES = 7;
  /** CDS, LDS, EDS, RDS per proxy in {@code sluice status}. */
  private static final int TYPES = 4;

  private final String server;

  /** The CLI against the control plane API on 127.0.0.1:{@code apiPort}. */
  MeshCommand(int apiPort) {
    this.server = "http://127.0.0.1:" + apiPort;
  }

  /** Runs {@code bin/sluice SUBCOMMAND --server URL ARGS}; a short-lived CLI JVM needs no optimising compiler. */
  Commands.Result run(String subcommand, String... args) {
    List<String> command = new ArrayList<>(List.of(Distribution.launcher().toString(), subcommand, "--server", server));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("SLUICE_JVM_OPTS", "-XX:TieredStopAtLevel=1");
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish in 60 s");
      }
      return new Commands.Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + command, e);
    }
  }

  /** {@code sluice apply -f F...}: must succeed; returns the control plane version it printed. */
  long apply(Path... files) {
    List<String> args = new ArrayList<>();
    for (Path f : files) {
      args.addAll(List.of("-f", f.toString()));
    }
    Commands.Result r = run("apply", args.toArray(String[]::new));
    r.orThrow(List.of("sluice", "apply", String.join(" ", args)));
    Matcher m = VERSION.matcher(r.output());
    if (!m.find()) {
      throw new IllegalStateException("sluice apply printed no version: " + r.output());
    }
    return Long.parseLong(m.group(1));
  }

  /**
   * True when {@code sluice status} shows the configuration of {@code version} in effect: the
   * control plane is at that version, some proxy ACKed it (when it changed anything) and no proxy
   * has a response it has not ACKed (no STALE, no NOT SENT). A proxy ACKs only once the
   * configuration is installed.
   */
  boolean inEffect(long version) {
    Commands.Result r = run("status");
    if (r.exitCode() != 0) {
      return false;
    }
    Matcher cp = CONTROL_PLANE_VERSION.matcher(r.output());
    if (!cp.find() || Long.parseLong(cp.group(1)) != version) {
      return false;
    }
    long newest = 0;
    int cells = 0;
    Matcher cell = CELL.matcher(r.output());
    while (cell.find()) {
      if (cell.group(1) == null) {
        return false;
      }
      newest = Math.max(newest, Long.parseLong(cell.group(1)));
      cells++;
    }
    // 6 sidecars and the gateway, 4 types each.
    return cells == PROXIES * TYPES && newest == version;
  }

  /** The control plane's version per {@code sluice status}. */
  long version() {
    Commands.Result r = run("status").orThrow(List.of("sluice", "status"));
    Matcher cp = CONTROL_PLANE_VERSION.matcher(r.output());
    if (!cp.find()) {
      throw new IllegalStateException("sluice status printed no version: " + r.output());
    }
    return Long.parseLong(cp.group(1));
  }
}
