package dev.sluice.mesh.demo.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * setns through the FFM API from a dedicated thread: a socket opened there belongs to that
 * namespace. Needs root (setns wants CAP_SYS_ADMIN) and iproute2 for the second namespace.
 */
class NamespaceDialerTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private final String otherNamespace = "sluice-test-dialer-" + ProcessHandle.current().pid();
  private HttpServer server;

  @BeforeEach
  void start() throws IOException {
    assumeTrue(Libc.geteuid() == 0, "setns into a network namespace needs root");
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/ready", exchange -> {
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
    SystemCommands.run("", List.of("ip", "netns", "del", otherNamespace));
  }

  @Test
  void inThisProcesssOwnNamespaceReachesItsLoopback() throws Exception {
    try (NamespaceDialer own = new NamespaceDialer(Path.of("/proc/self/ns/net"))) {
      try (SocketChannel ch = own.connect(server.getAddress(), TIMEOUT)) {
        assertThat(ch.isConnected()).isTrue();
      }
      assertThat(own.httpStatus(server.getAddress().getPort(), "/ready", TIMEOUT)).isEqualTo(200);
      assertThat(own.httpStatus(server.getAddress().getPort(), "/missing", TIMEOUT)).isEqualTo(404);
    }
  }

  @Test
  void anotherNamespaceHasItsOwnLoopback() throws Exception {
    assumeTrue(SystemCommands.onPath("ip"), "ip (iproute2) is not installed");
    SystemCommands.check("ip", "netns", "add", otherNamespace);
    SystemCommands.check("ip", "-n", otherNamespace, "link", "set", "lo", "up");
    try (NamespaceDialer other = NamespaceDialer.named(otherNamespace)) {
      // The same 127.0.0.1:port that answers here has nothing listening over there.
      assertThatThrownBy(() -> other.connect(server.getAddress(), TIMEOUT)).isInstanceOf(ConnectException.class);
      assertThat(other.httpStatus(server.getAddress().getPort(), "/ready", TIMEOUT)).isEqualTo(-1);
    }
    // This thread never left its namespace.
    try (SocketChannel ch = SocketChannel.open(server.getAddress())) {
      assertThat(ch.isConnected()).isTrue();
    }
  }

  @Test
  void aMissingNamespaceIsNamedInTheError() {
    assertThatThrownBy(() -> NamespaceDialer.named("sluice-test-no-such-namespace"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("/var/run/netns/sluice-test-no-such-namespace")
        .hasMessageContaining("No such file or directory");
  }
}
