package dev.sluice.it.routing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 backend on plain sockets that answers every request (no body expected) after a fixed
 * latency, with {@code x-backend: <name>}: the slow host a least-request balancer should avoid.
 * {@link #close()} closes every connection too, as a stopped process would.
 */
final class SocketBackend implements AutoCloseable {
  final String name;
  final AtomicInteger requests = new AtomicInteger();
  private final Duration latency;
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  SocketBackend(String name, Duration latency) throws IOException {
    this.name = name;
    this.latency = latency;
    this.server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(this::accept);
  }

  int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        open.add(s);
        Thread.ofVirtual().start(() -> serve(s));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket s) {
    try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
        OutputStream out = s.getOutputStream()) {
      while (true) {
        String line = in.readLine();
        if (line == null) {
          return;
        }
        while (line != null && !line.isEmpty()) {
          line = in.readLine();
        }
        requests.incrementAndGet();
        // The latency this backend simulates: it holds the request, as a slow service would.
        if (!latency.isZero()) {
          Thread.sleep(latency);
        }
        out.write(("HTTP/1.1 200 OK\r\ncontent-length: 4\r\nx-backend: " + name + "\r\n\r\nslow")
            .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
    } catch (IOException | InterruptedException e) {
      // the proxy closed the connection, or close() did
    } finally {
      open.remove(s);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : open) {
      s.close();
    }
  }
}
