package dev.sluice.it.netns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.it.Commands;
import dev.sluice.it.bookinfo.BookinfoScenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * {@link BookinfoScenarios} on {@code sluice demo bookinfo --netns}: every Bookinfo workload and
 * the ingress gateway in its own network namespace with Istio's iptables rules, the proxies taking
 * xDS over the control plane's Unix socket, the gateway reached through the demo's port forward on
 * a free port of 127.0.0.1 (not 8080). The namespaces' names are fixed: while another netns demo
 * holds them the test waits. Needs root, iproute2, iptables and setpriv; skipped with a message
 * otherwise.
 */
class BookinfoNetnsDemoTest extends BookinfoScenarios {
  private static final String NS_PREFIX = "sluice-demo-";

  @Override
  protected @Nullable String unsupported() {
    if (!Commands.isRoot()) {
      return "the --netns demo needs root (network namespaces, iptables, uid 1337)";
    }
    return Stream.of("ip", "iptables-restore", "setpriv").filter(tool -> !Commands.onPath(tool))
        .map(tool -> tool + " is not installed: run scripts/install-test-tools").findFirst().orElse(null);
  }

  /** A demo namespace holding processes (another netns demo running); empty leftovers the demo removes itself. */
  @Override
  protected @Nullable String busy() {
    return demoNamespaces()
        .filter(ns -> !Commands.run(Duration.ofSeconds(10), List.of("ip", "netns", "pids", ns)).output().isBlank())
        .map(ns -> "namespace " + ns).findFirst().orElse(null);
  }

  @Override
  protected List<String> modeOptions(int freePort) {
    return List.of("--netns", "--forward-port", Integer.toString(freePort));
  }

  @Override
  protected int gatewayPort(int freePort) {
    return freePort;
  }

  @Test
  @Order(10)
  void podAddressesExistOnlyInsideTheirNamespaces() {
    assertThat(Commands.check("ip", "-4", "addr")).doesNotContain("10.44.");
    assertThat(demoOutput()).contains("ip netns exec " + NS_PREFIX + "productpage-v1 curl -s http://127.0.0.1:15000/");
  }

  /** Stopping removes every namespace and its {@code /etc/netns} hosts file. */
  @Override
  protected void assertCleanedUp() {
    assertThat(demoNamespaces()).as("demo namespaces left").isEmpty();
    try (Stream<Path> files = Files.list(Path.of("/etc/netns"))) {
      assertThat(files.map(p -> p.getFileName().toString())).as("/etc/netns entries left").noneMatch(n -> n.startsWith(NS_PREFIX));
    } catch (NoSuchFileException e) {
      // No /etc/netns at all: nothing left either.
    } catch (IOException e) {
      throw new AssertionError("cannot list /etc/netns: " + e.getMessage(), e);
    }
  }

  private static Stream<String> demoNamespaces() {
    return Arrays.stream(Commands.check("ip", "netns", "list").split("\n"))
        .map(line -> line.strip().split(" ")[0]).filter(ns -> ns.startsWith(NS_PREFIX));
  }
}
