package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.ResourceManager;
import dev.sluice.tls.UpstreamTransportSocket;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * HTTP/1.1 keep-alive pool: one request per connection at a time; idle connections are reused
 * most-recently-used first (warm in the kernel and the upstream) and closed after the cluster's
 * idle timeout; a connection retires after {@code max_requests_per_connection}.
 */
public final class Http1ConnectionPool extends PoolBase {
  private final ArrayDeque<Http1ClientConnection> idle = new ArrayDeque<>();
  private final List<Http1ClientConnection> busy = new ArrayList<>();
  /** The AUTO pool this one is the HTTP/1.1 part of, else null. */
  private final @Nullable AutoConnectionPool auto;

  public Http1ConnectionPool(Host host, Bootstrap bootstrap, @Nullable UpstreamTransportSocket tls) {
    this(host, bootstrap, tls, null, host.cluster().resourceManager());
  }

  /** With {@code auto}: its connections offer h2 and http/1.1, and the negotiated ALPN places them. */
  Http1ConnectionPool(Host host, Bootstrap bootstrap, @Nullable UpstreamTransportSocket tls,
      @Nullable AutoConnectionPool auto, ResourceManager resources) {
    super(host, bootstrap, tls, auto == null ? UpstreamTransportSocket.Alpn.HTTP1 : UpstreamTransportSocket.Alpn.AUTO, resources);
    this.auto = auto;
  }

  @Override
  public @Nullable Cancellable newStream(PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
    if (requestsOverflow(callbacks)) {
      return null;
    }
    Http1ClientConnection c;
    while ((c = idle.pollFirst()) != null) {
      if (c.usable()) {
        attach(c, callbacks, response);
        return null;
      }
    }
    Pending p = enqueue(callbacks, response);
    if (p == null) {
      return null;
    }
    // One connection per waiting request (HTTP/1 cannot multiplex), within max_connections.
    if (connecting < pending.size() && canOpenConnection()) {
      openConnection();
    }
    return p;
  }

  private void openConnection() {
    if (auto != null) {
      auto.open(this);
      return;
    }
    Http1ClientConnection conn = new Http1ClientConnection(this);
    connect(conn::initPipeline, new ConnectListener() {
      @Override
      public void onConnected(Channel channel) {
        stats.upstreamCxHttp1Total.inc();
        armMaxConnectionDuration(channel, () -> onMaxConnectionDuration(conn));
        onConnectionReady(conn);
      }

      @Override
      public void onConnectFailed(ResetReason reason, String details) {
        Http1ConnectionPool.this.onConnectFailed(reason, details);
      }
    });
  }

  /** Envoy fails one pending request per failed connection attempt. */
  @Override
  protected void onConnectFailed(ResetReason reason, String details) {
    Pending p = dequeue();
    if (p != null) {
      p.callbacks.onPoolFailure(reason, details, host);
    }
  }

  /**
   * Takes an AUTO pool connection whose handshake negotiated HTTP/1.1 (or no ALPN): the codec goes
   * on the connected channel, which then serves the first waiting request; each other waiting
   * request gets a connection of its own.
   */
  void adopt(Channel channel) {
    Http1ClientConnection conn = new Http1ClientConnection(this);
    conn.initPipeline(channel.pipeline());
    stats.upstreamCxHttp1Total.inc();
    armMaxConnectionDuration(channel, () -> onMaxConnectionDuration(conn));
    onConnectionReady(conn);
    while (connecting < pending.size() && canOpenConnection()) {
      openConnection();
    }
  }

  private void attach(Http1ClientConnection c, PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
    busy.add(c);
    c.cancelIdleTimer();
    UpstreamStream stream = c.newStream(response);
    callbacks.onPoolReady(stream, host);
  }

  /**
   * A connection became free (connected, or its response completed with keep-alive). A draining
   * pool (its host or cluster went away) still serves the requests already waiting in it, as
   * Envoy's does, and closes the connection once none waits: closing it with requests queued left
   * them waiting for a connection nothing would open.
   */
  void onConnectionReady(Http1ClientConnection c) {
    busy.remove(c);
    if (!c.usable() || draining && pending.isEmpty()) {
      c.close();
      return;
    }
    Pending p = dequeue();
    if (p != null) {
      attach(c, p.callbacks, p.response);
      return;
    }
    idle.addFirst(c);
    long idleNanos = cluster.idleTimeout().toNanos();
    if (idleNanos > 0) {
      c.armIdleTimer(idleNanos);
    }
  }

  /** Too old: an idle connection closes now, a busy one after its response (it is no longer usable). */
  private void onMaxConnectionDuration(Http1ClientConnection c) {
    c.retire();
    if (idle.remove(c)) {
      c.close();
    }
  }

  void onConnectionIdleTimeout(Http1ClientConnection c) {
    if (idle.remove(c)) {
      stats.upstreamCxIdleTimeout.inc();
      c.close();
    }
  }

  void onConnectionClosed(Http1ClientConnection c) {
    idle.remove(c);
    busy.remove(c);
    // A waiting request may now get a connection of its own, in a draining pool too.
    if (!pending.isEmpty() && connecting < pending.size() && canOpenConnection()) {
      openConnection();
    }
  }

  @Override
  public void drain() {
    draining = true;
    Http1ClientConnection c;
    while ((c = idle.pollFirst()) != null) {
      c.close();
    }
  }

  @Override
  public boolean idle() {
    return busy.isEmpty() && idle.isEmpty() && pending.isEmpty() && connecting == 0;
  }

  long maxRequestsPerConnection() {
    return cluster.maxRequestsPerConnection();
  }

  static void cancel(@Nullable ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }

  static long nanosToMillis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
