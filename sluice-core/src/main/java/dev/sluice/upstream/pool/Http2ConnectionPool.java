package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.ResourceManager;
import dev.sluice.tls.UpstreamTransportSocket;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * HTTP/2 pool: streams multiplexed on as few connections as the peer's MAX_CONCURRENT_STREAMS
 * allows. A request that finds every connection full waits in the pending queue while another
 * connection opens (never a REFUSED_STREAM from exceeding the peer's limit).
 */
public final class Http2ConnectionPool extends PoolBase {
  private final List<Http2ClientConnection> connections = new ArrayList<>(2);
  /** The AUTO pool this one is the HTTP/2 part of, else null. */
  private final @Nullable AutoConnectionPool auto;

  public Http2ConnectionPool(Host host, Bootstrap bootstrap, @Nullable UpstreamTransportSocket tls) {
    this(host, bootstrap, tls, null, host.cluster().resourceManager());
  }

  /** With {@code auto}: its connections offer h2 and http/1.1, and the negotiated ALPN places them. */
  Http2ConnectionPool(Host host, Bootstrap bootstrap, @Nullable UpstreamTransportSocket tls,
      @Nullable AutoConnectionPool auto, ResourceManager resources) {
    super(host, bootstrap, tls, auto == null ? UpstreamTransportSocket.Alpn.HTTP2 : UpstreamTransportSocket.Alpn.AUTO, resources);
    this.auto = auto;
  }

  @Override
  public @Nullable Cancellable newStream(PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
    if (requestsOverflow(callbacks)) {
      return null;
    }
    Http2ClientConnection c = available();
    if (c != null) {
      callbacks.onPoolReady(c.newStream(response), host);
      return null;
    }
    Pending p = enqueue(callbacks, response);
    if (p == null) {
      return null;
    }
    if (connecting == 0 && canOpenConnection()) {
      openConnection();
    }
    return p;
  }

  private @Nullable Http2ClientConnection available() {
    for (int i = 0; i < connections.size(); i++) {
      Http2ClientConnection c = connections.get(i);
      if (c.hasCapacity()) {
        return c;
      }
    }
    return null;
  }

  private void openConnection() {
    if (auto != null) {
      auto.open(this);
      return;
    }
    Http2ClientConnection conn = new Http2ClientConnection(this);
    connect(conn::initPipeline, new ConnectListener() {
      @Override
      public void onConnected(Channel channel) {
        ready(conn, channel);
      }

      @Override
      public void onConnectFailed(ResetReason reason, String details) {
        Http2ConnectionPool.this.onConnectFailed(reason, details);
      }
    });
  }

  /**
   * Takes an AUTO pool connection whose handshake negotiated h2: the codec goes on the connected
   * channel (Netty's handler sends the connection preface when added to an active channel).
   */
  void adopt(Channel channel) {
    Http2ClientConnection conn = new Http2ClientConnection(this);
    conn.initPipeline(channel.pipeline());
    channel.flush();
    ready(conn, channel);
  }

  private void ready(Http2ClientConnection conn, Channel channel) {
    stats.upstreamCxHttp2Total.inc();
    armMaxConnectionDuration(channel, conn::goAway);
    connections.add(conn);
    onCapacity(conn);
  }

  /** The connection's SETTINGS arrived, or a stream ended: serve waiting requests. */
  void onCapacity(Http2ClientConnection c) {
    while (!pending.isEmpty() && c.hasCapacity()) {
      Pending p = dequeue();
      if (p != null) {
        p.callbacks.onPoolReady(c.newStream(p.response), host);
      }
    }
    // A draining pool's connections take no new streams: its waiting requests get a connection of
    // their own, which closes once they end.
    if (!pending.isEmpty() && connecting == 0 && canOpenConnection()) {
      openConnection();
    }
    if ((draining || c.goingAway()) && c.activeStreams() == 0) {
      c.close();
    }
  }

  void onConnectionClosed(Http2ClientConnection c) {
    connections.remove(c);
    if (!pending.isEmpty() && connecting == 0 && canOpenConnection()) {
      openConnection();
    }
  }

  @Override
  public void drain() {
    draining = true;
    for (Http2ClientConnection c : new ArrayList<>(connections)) {
      c.goAway();
    }
  }

  @Override
  public boolean idle() {
    return connections.isEmpty() && pending.isEmpty() && connecting == 0;
  }
}
