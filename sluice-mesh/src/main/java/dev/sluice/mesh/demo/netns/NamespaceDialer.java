package dev.sluice.mesh.demo.netns;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Opens TCP connections inside one network namespace from this process, which stays in its own:
 * a dedicated platform thread enters the namespace once ({@link Libc#enterNetworkNamespace}) and
 * creates and connects every socket; a socket keeps the namespace it was created in, so the
 * connected channel is then used from any thread. What {@code kubectl port-forward} and the
 * demo's readiness checks need to reach a pod's loopback.
 */
final class NamespaceDialer implements AutoCloseable {
  private final Path namespaceFile;
  private final ExecutorService thread;

  /** Starts the thread and enters {@code namespaceFile}; throws IllegalStateException when it cannot. */
  NamespaceDialer(Path namespaceFile) {
    this.namespaceFile = namespaceFile;
    this.thread = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("netns-" + namespaceFile.getFileName()).factory());
    try {
      thread.submit(() -> Libc.enterNetworkNamespace(namespaceFile)).get();
    } catch (ExecutionException e) {
      thread.shutdownNow();
      throw e.getCause() instanceof IllegalStateException ise ? ise : new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      thread.shutdownNow();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted entering " + namespaceFile, e);
    }
  }

  /** A dialer for the namespace {@code ip netns add NAME} created. */
  static NamespaceDialer named(String name) {
    return new NamespaceDialer(Path.of("/var/run/netns", name));
  }

  /** A blocking channel connected to {@code to} from inside the namespace. */
  SocketChannel connect(InetSocketAddress to, Duration timeout) throws IOException {
    Future<SocketChannel> f = thread.submit(() -> {
      SocketChannel ch = SocketChannel.open(StandardProtocolFamily.INET);
      try {
        ch.socket().connect(to, (int) timeout.toMillis());
        return ch;
      } catch (IOException e) {
        ch.close();
        throw e;
      }
    });
    try {
      return f.get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("connecting to " + to + " in " + namespaceFile + ": " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new IOException("connecting to " + to + " in " + namespaceFile + " timed out");
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted connecting to " + to, e);
    }
  }

  /**
   * The status code of {@code GET path} at {@code 127.0.0.1:port} inside the namespace (HTTP/1.0,
   * one request per connection), or -1 when nothing answers.
   */
  int httpStatus(int port, String path, Duration timeout) {
    try (SocketChannel ch = connect(new InetSocketAddress("127.0.0.1", port), timeout)) {
      ch.socket().setSoTimeout((int) timeout.toMillis());
      ch.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
      // The channel is blocking, so its socket's timeout applies to the stream adapter's reads.
      InputStream in = ch.socket().getInputStream();
      StringBuilder line = new StringBuilder();
      for (int b = in.read(); b != -1 && b != '\n' && line.length() < 200; b = in.read()) {
        line.append((char) b);
      }
      String[] parts = line.toString().split(" ");
      return parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1]) : -1;
    } catch (IOException | NumberFormatException | UncheckedIOException e) {
      return -1;
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
