package dev.sluice.it.netns;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.it.Commands;
import dev.sluice.it.Distribution;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Pods on this machine: one network namespace per pod, joined to a client pod by veth pairs, with
 * addresses assigned inside the namespaces only. Everything it creates it removes on
 * {@link #close()}, and every process it starts it ends by pid.
 */
final class PodNetwork implements AutoCloseable {
  private final String prefix = "sl" + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
  private final List<String> namespaces = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private final List<Path> netnsEtc = new ArrayList<>();

  /** Skips the calling test class unless this machine can make pods: root and the netns tools. */
  static void assumeUsable(String whyRoot) {
    assumeTrue(Commands.isRoot(), whyRoot);
    for (String tool : List.of("ip", "iptables-restore", "setpriv", "curl")) {
      assumeTrue(Commands.onPath(tool), tool + " is not installed: run scripts/install-test-tools");
    }
  }

  /** pilot-agent's exact command line for the proxy, on the distribution's launcher. */
  static List<String> sidecarCommand(Path bootstrap) {
    return List.of("bash", Distribution.launcher().toString(),
        "-c", bootstrap.toString(), "--drain-time-s", "45", "--drain-strategy", "immediate",
        "--local-address-ip-version", "v4", "--file-flush-interval-msec", "1000", "--disable-hot-restart",
        "--allow-unknown-static-fields", "-l", "warning", "--component-log-level", "misc:error", "--concurrency", "1");
  }

  /** Creates namespace {@code <prefix>-<pod>} with {@code lo} up; returns its name. */
  String addPod(String pod) {
    String ns = prefix + "-" + pod;
    Commands.check("ip", "netns", "add", ns);
    namespaces.add(ns);
    exec(ns, "ip", "link", "set", "lo", "up");
    return ns;
  }

  /**
   * A veth pair between two namespaces: {@code aAddr} on a's end, {@code bAddr} on b's end (both
   * {@code /24}). Interface names stay under Linux's 15 characters.
   */
  void link(String nsA, String aAddr, String nsB, String bAddr) {
    String id = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
    String ifA = "va" + id;
    String ifB = "vb" + id;
    Commands.check("ip", "link", "add", ifA, "netns", nsA, "type", "veth", "peer", "name", ifB, "netns", nsB);
    exec(nsA, "ip", "addr", "add", aAddr + "/24", "dev", ifA);
    exec(nsB, "ip", "addr", "add", bAddr + "/24", "dev", ifB);
    exec(nsA, "ip", "link", "set", ifA, "up");
    exec(nsB, "ip", "link", "set", ifB, "up");
  }

  /** A route in {@code ns} (e.g. the service VIP range, which only iptables ever sees). */
  void route(String ns, String cidr, String via) {
    exec(ns, "ip", "route", "add", cidr, "via", via);
  }

  /** Installs iptables rules (iptables-restore format) in the namespace's nat table. */
  void iptables(String ns, String rules) {
    List<String> cmd = List.of("ip", "netns", "exec", ns, "iptables-restore");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    try {
      Process p = pb.start();
      p.getOutputStream().write(rules.getBytes(StandardCharsets.UTF_8));
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IllegalStateException("iptables-restore in " + ns + " failed: " + out);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code /etc/hosts} as seen inside the namespace ({@code ip netns exec} bind-mounts /etc/netns/NS/hosts). */
  void hosts(String ns, String content) throws IOException {
    Path dir = Path.of("/etc/netns", ns);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("hosts"), content);
    netnsEtc.add(dir);
  }

  String exec(String ns, String... command) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    cmd.addAll(List.of(command));
    return Commands.check(cmd.toArray(String[]::new));
  }

  Commands.Result tryExec(String ns, String... command) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    cmd.addAll(List.of(command));
    return Commands.run(java.time.Duration.ofSeconds(20), cmd);
  }

  /** pilot-agent's readiness for the sidecar in {@code ns}: server.state 0 (LIVE) and workers started. */
  void awaitSidecarReady(String ns) {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
      Commands.Result r = tryExec(ns, "curl", "-s",
          "http://127.0.0.1:15000/stats?usedonly&filter=^(server\\.state|listener_manager\\.workers_started)");
      return r.exitCode() == 0 && r.output().contains("server.state: 0") && r.output().contains("listener_manager.workers_started: 1");
    });
  }

  /** A stat of the sidecar in {@code ns}, read from its admin port; -1 when it has none of that name. */
  long sidecarStat(String ns, String name) {
    String out = exec(ns, "curl", "-s", "http://127.0.0.1:15000/stats?filter=^" + name.replace("|", "\\|").replace(".", "\\.") + "$");
    for (String line : out.split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).strip());
      }
    }
    return -1;
  }

  /**
   * Starts a long-running process in the namespace, as {@code uid} (via setpriv) when not null,
   * its output appended to {@code log}. {@code ip netns exec}, setpriv and the launcher all exec,
   * so the returned process is the program itself.
   */
  Process start(String ns, Integer uid, Path log, List<String> command) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    if (uid != null) {
      cmd.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"));
    }
    cmd.addAll(command);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    processes.add(p);
    return p;
  }

  void stop(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
    }
    processes.remove(p);
  }

  @Override
  public void close() throws Exception {
    for (Process p : List.copyOf(processes)) {
      stop(p);
    }
    for (String ns : namespaces) {
      // Deleting a namespace deletes the veth ends inside it, and with them their peers.
      Commands.run(java.time.Duration.ofSeconds(10), List.of("ip", "netns", "del", ns));
    }
    for (Path dir : netnsEtc) {
      Files.deleteIfExists(dir.resolve("hosts"));
      Files.deleteIfExists(dir);
    }
  }
}
