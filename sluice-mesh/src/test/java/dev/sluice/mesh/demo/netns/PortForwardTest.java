package dev.sluice.mesh.demo.netns;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The port forward against a real backend on loopback: bytes both ways, half-close passed on, upstream failure closes the client. */
class PortForwardTest {
  private ServerSocket backend;
  private Thread backendThread;

  @BeforeEach
  void startBackend() throws IOException {
    backend = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    // Reads everything until the client half-closes, then answers it upper-cased and closes.
    backendThread = Thread.ofVirtual().start(() -> {
      while (!backend.isClosed()) {
        try (Socket s = backend.accept()) {
          byte[] in = s.getInputStream().readAllBytes();
          s.getOutputStream().write(new String(in, StandardCharsets.UTF_8).toUpperCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
          return;
        }
      }
    });
  }

  @AfterEach
  void stopBackend() throws Exception {
    backend.close();
    backendThread.join();
  }

  private PortForward forwardToBackend() {
    return PortForward.start(new InetSocketAddress("127.0.0.1", 0),
        () -> SocketChannel.open(new InetSocketAddress("127.0.0.1", backend.getLocalPort())));
  }

  @Test
  void copiesBothWaysAndPassesTheHalfCloseOn() throws Exception {
    try (PortForward f = forwardToBackend(); Socket client = new Socket("127.0.0.1", f.localAddress().getPort())) {
      byte[] request = "hello through the forward ".repeat(2_000).getBytes(StandardCharsets.UTF_8); // several buffers
      client.getOutputStream().write(request);
      client.shutdownOutput();
      // The backend answers only after seeing the end of the request: the half-close reached it.
      String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).isEqualTo(new String(request, StandardCharsets.UTF_8).toUpperCase(Locale.ROOT));
    }
  }

  @Test
  void servesConnectionsOneAfterAnother() throws Exception {
    try (PortForward f = forwardToBackend()) {
      for (String word : new String[] {"one", "two", "three"}) {
        try (Socket client = new Socket("127.0.0.1", f.localAddress().getPort())) {
          client.getOutputStream().write(word.getBytes(StandardCharsets.UTF_8));
          client.shutdownOutput();
          assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(word.toUpperCase(Locale.ROOT));
        }
      }
    }
  }

  @Test
  void anUpstreamThatCannotBeReachedClosesTheClient() throws Exception {
    try (PortForward f = PortForward.start(new InetSocketAddress("127.0.0.1", 0), () -> {
          throw new IOException("connection refused");
        });
        Socket client = new Socket("127.0.0.1", f.localAddress().getPort())) {
      client.setSoTimeout(10_000);
      InputStream in = client.getInputStream();
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void aBusyPortIsReportedWithTheAddress() throws Exception {
    try (PortForward f = forwardToBackend()) {
      int port = f.localAddress().getPort();
      assertThat(org.assertj.core.api.Assertions.catchThrowable(
          () -> PortForward.start(new InetSocketAddress("127.0.0.1", port), () -> SocketChannel.open())))
          .hasMessageContaining("cannot listen on 127.0.0.1:" + port);
    }
  }
}
