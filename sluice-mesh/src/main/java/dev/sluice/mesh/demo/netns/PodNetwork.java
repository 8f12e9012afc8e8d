package dev.sluice.mesh.demo.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The demo's pods as network namespaces on this machine, as a Kubernetes node wires them: a
 * {@value #NODE} namespace holds a Linux bridge ({@value #BRIDGE}, {@value #BRIDGE_ADDRESS}); each
 * pod namespace has {@code eth0}, one end of a veth pair whose other end is a port of the bridge,
 * with the pod IP ({@value #PREFIX_LENGTH}-bit prefix) and a default route through the bridge, so
 * service VIPs (which only iptables ever sees) have a route. Nothing gets an address in the root
 * namespace. Every name starts with {@value #NAME_PREFIX}, so a run killed before its clean-up is
 * found and removed by the next ({@link #removeLeftovers()}).
 */
final class PodNetwork implements AutoCloseable {
  static final String NAME_PREFIX = "sluice-demo-";
  static final String NODE = NAME_PREFIX + "node";
  static final String BRIDGE = "br0";
  static final String BRIDGE_ADDRESS = "10.44.0.1";
  static final int PREFIX_LENGTH = 16;
  private static final Path NETNS_ETC = Path.of("/etc/netns");

  private final List<String> namespaces = new ArrayList<>();

  /** Creates the node namespace and its bridge. */
  PodNetwork() {
    try {
      add(NODE);
      ip(NODE, "link", "add", BRIDGE, "type", "bridge");
      ip(NODE, "addr", "add", BRIDGE_ADDRESS + "/" + PREFIX_LENGTH, "dev", BRIDGE);
      ip(NODE, "link", "set", BRIDGE, "up");
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** The namespace name of a pod. */
  static String namespace(String pod) {
    return NAME_PREFIX + pod;
  }

  /**
   * Adds pod {@code pod}'s namespace with {@code eth0} at {@code podIp}, bridged on the node;
   * returns the namespace name.
   */
  String addPod(String pod, String podIp) {
    String ns = namespace(pod);
    add(ns);
    // The node's end: "sd<index>", well under Linux's 15 characters.
    String hostEnd = "sd" + (namespaces.size() - 1);
    ip(NODE, "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", ns);
    ip(NODE, "link", "set", hostEnd, "master", BRIDGE, "up");
    ip(ns, "addr", "add", podIp + "/" + PREFIX_LENGTH, "dev", "eth0");
    ip(ns, "link", "set", "eth0", "up");
    ip(ns, "route", "add", "default", "via", BRIDGE_ADDRESS);
    return ns;
  }

  /** Loads {@code rules} (iptables-restore format) into the namespace. */
  void iptables(String ns, String rules) {
    SystemCommands.check(rules, List.of("ip", "netns", "exec", ns, "iptables-restore"));
  }

  /** The namespace's {@code /etc/hosts}: {@code ip netns exec} bind-mounts {@code /etc/netns/NS/hosts} over it. */
  void hosts(String ns, String content) {
    try {
      Path dir = Files.createDirectories(NETNS_ETC.resolve(ns));
      Files.writeString(dir.resolve("hosts"), content);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + NETNS_ETC.resolve(ns).resolve("hosts") + ": " + e.getMessage(), e);
    }
  }

  private void add(String ns) {
    SystemCommands.check("ip", "netns", "add", ns);
    namespaces.add(ns);
    ip(ns, "link", "set", "lo", "up");
  }

  private static void ip(String ns, String... args) {
    List<String> cmd = new ArrayList<>(List.of("ip", "-n", ns));
    cmd.addAll(List.of(args));
    SystemCommands.check("", cmd);
  }

  /** Removes the namespaces (their veths and the bridge go with them) and their /etc/netns files. */
  @Override
  public void close() {
    namespaces.reversed().forEach(PodNetwork::remove);
    namespaces.clear();
  }

  /**
   * Removes every namespace and /etc/netns directory a previous run left (killed before its
   * clean-up: its children got their parent-death signal, so its namespaces are empty); returns
   * their names.
   *
   * @throws IllegalStateException when such a namespace still holds processes: another demo is running
   */
  static List<String> removeLeftovers() {
    List<String> found = new ArrayList<>();
    for (String line : SystemCommands.check("ip", "netns", "list").split("\n")) {
      String name = line.strip().split(" ")[0];
      if (name.startsWith(NAME_PREFIX)) {
        found.add(name);
      }
    }
    for (String ns : found) {
      String pids = SystemCommands.run("", List.of("ip", "netns", "pids", ns)).output().strip();
      if (!pids.isEmpty()) {
        throw new IllegalStateException("namespace " + ns + " holds running processes (" + pids.replace('\n', ' ')
            + "): is another `sluice demo bookinfo --netns` running? Stop it first");
      }
    }
    if (Files.isDirectory(NETNS_ETC)) {
      try (Stream<Path> dirs = Files.list(NETNS_ETC)) {
        dirs.map(d -> d.getFileName().toString()).filter(n -> n.startsWith(NAME_PREFIX) && !found.contains(n)).forEach(found::add);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + NETNS_ETC + ": " + e.getMessage(), e);
      }
    }
    found.forEach(PodNetwork::remove);
    return found;
  }

  private static void remove(String ns) {
    // A namespace still holding a process (say one that ignores SIGTERM) lives on unnamed until it exits.
    SystemCommands.run("", List.of("ip", "netns", "del", ns));
    Path dir = NETNS_ETC.resolve(ns);
    if (Files.isDirectory(dir)) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot remove " + dir + ": " + e.getMessage(), e);
      }
    }
  }
}
