package dev.sluice.mesh.demo.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP port forward, as {@code kubectl port-forward}: accepts on a local address and, per
 * connection, opens the upstream connection through {@link Upstream} (in the demo: from a thread
 * inside the gateway's network namespace) and copies bytes both ways, passing a half-close on. A
 * failed upstream connect closes the accepted connection.
 */
final class PortForward implements AutoCloseable {
  /** Opens the connection an accepted one is forwarded to. */
  @FunctionalInterface
  interface Upstream {
    SocketChannel open() throws IOException;
  }

  private static final int BUFFER = 16 * 1024;

  private final ServerSocketChannel server;
  private final Upstream upstream;
  private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;

  private PortForward(ServerSocketChannel server, Upstream upstream) {
    this.server = server;
    this.upstream = upstream;
    this.acceptor = Thread.ofVirtual().name("port-forward-accept").unstarted(this::acceptLoop);
  }

  /** Listens on {@code listen} and starts forwarding; throws UncheckedIOException naming the address when it cannot listen. */
  static PortForward start(InetSocketAddress listen, Upstream upstream) {
    ServerSocketChannel server;
    try {
      server = ServerSocketChannel.open(StandardProtocolFamily.INET);
      try {
        server.bind(listen);
      } catch (IOException e) {
        server.close();
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + listen.getHostString() + ":" + listen.getPort() + ": " + e.getMessage(), e);
    }
    PortForward f = new PortForward(server, upstream);
    f.acceptor.start();
    return f;
  }

  InetSocketAddress localAddress() {
    try {
      return (InetSocketAddress) server.getLocalAddress();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void acceptLoop() {
    while (server.isOpen()) {
      SocketChannel downstream;
      try {
        downstream = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      Thread.ofVirtual().name("port-forward").start(() -> forward(downstream));
    }
  }

  private void forward(SocketChannel downstream) {
    open.add(downstream);
    SocketChannel up;
    try {
      up = upstream.open();
    } catch (IOException | RuntimeException e) {
      close(downstream);
      return;
    }
    open.add(up);
    Thread back = Thread.ofVirtual().name("port-forward-back").start(() -> copy(up, downstream));
    copy(downstream, up);
    try {
      back.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    close(up);
    close(downstream);
  }

  /** Copies until {@code from} ends, then half-closes {@code to}; on an error closes both. */
  private void copy(SocketChannel from, SocketChannel to) {
    ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
    try {
      while (from.read(buffer) >= 0) {
        buffer.flip();
        while (buffer.hasRemaining()) {
          to.write(buffer);
        }
        buffer.clear();
      }
      to.shutdownOutput();
    } catch (ClosedChannelException e) {
      // The other direction failed and closed both.
    } catch (IOException e) {
      close(from);
      close(to);
    }
  }

  private void close(SocketChannel ch) {
    open.remove(ch);
    try {
      ch.close();
    } catch (IOException e) {
      // Closing: nothing left to do.
    }
  }

  /** Stops accepting and closes every forwarded connection. */
  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // Closing: nothing left to do.
    }
    open.forEach(this::close);
  }
}
