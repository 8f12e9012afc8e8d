package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.Host;
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

  public Http1ConnectionPool(Host host, Bootstrap bootstrap, @Nullable UpstreamTransportSocket tls) {
    super(host, bootstrap, tls, UpstreamTransportSocket.Alpn.HTTP1);
  }

  @Override
  public @Nullable Cancellable newStream(PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
    if (!resources.requests().canCreate()) {
      stats.upstreamRqPendingOverflow.inc();
      callbacks.onPoolFailure(ResetReason.OVERFLOW, "overflow", host);
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
    Http1ClientConnection conn = new Http1ClientConnection(this);
    connect(conn::initPipeline, new ConnectListener() {
      @Override
      public void onConnected(Channel channel) {
        stats.upstreamCxHttp1Total.inc();
        onConnectionReady(conn);
      }

      @Override
      public void onConnectFailed(ResetReason reason, String details) {
        // Envoy fails one pending request per failed connection attempt.
        Pending p = dequeue();
        if (p != null) {
          p.callbacks.onPoolFailure(reason, details, host);
        }
      }
    });
  }

  private void attach(Http1ClientConnection c, PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
    busy.add(c);
    c.cancelIdleTimer();
    UpstreamStream stream = c.newStream(response);
    callbacks.onPoolReady(stream, host);
  }

  /** A connection became free (connected, or its response completed with keep-alive). */
  void onConnectionReady(Http1ClientConnection c) {
    busy.remove(c);
    if (!c.usable() || draining) {
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

  void onConnectionIdleTimeout(Http1ClientConnection c) {
    if (idle.remove(c)) {
      stats.upstreamCxIdleTimeout.inc();
      c.close();
    }
  }

  void onConnectionClosed(Http1ClientConnection c) {
    idle.remove(c);
    busy.remove(c);
    // A waiting request may now get a connection of its own.
    if (!pending.isEmpty() && connecting < pending.size() && !draining && canOpenConnection()) {
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
