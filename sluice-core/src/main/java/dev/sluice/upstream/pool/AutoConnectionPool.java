package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.ResourceManager;
import dev.sluice.tls.UpstreamTransportSocket;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The pool of a cluster whose protocol is {@code auto_config}, over TLS (Envoy's mixed pool): every
 * connection offers {@code h2,http/1.1} by ALPN and gets its codec only after the handshake, HTTP/2
 * when h2 was negotiated, else HTTP/1.1 (an upstream without ALPN speaks HTTP/1.1). The host's
 * negotiated protocol is remembered (here and, for the other workers' pools, in a map shared by
 * host), so later streams go straight to the HTTP/1 or HTTP/2 part; until it is known, requests
 * wait here for one probing connection, which like Envoy's carries HTTP/2's stream limit: over
 * HTTP/2 it serves them all, over HTTP/1.1 the others get connections of their own. A part's
 * connection that negotiates the other protocol (the upstream changed) moves to the other part
 * with the part's waiting requests.
 */
final class AutoConnectionPool extends PoolBase {
  /** An AUTO connection's pipeline has only TLS until the handshake picks the codec. */
  private static final Consumer<ChannelPipeline> NO_CODEC = p -> {};
  private static final String H2 = "h2";

  private final Http1ConnectionPool http1;
  private final Http2ConnectionPool http2;
  private final Map<Host, ConnectionPools.Protocol> negotiatedByHost;
  private ConnectionPools.@Nullable Protocol negotiated;

  AutoConnectionPool(Host host, Bootstrap bootstrap, UpstreamTransportSocket tls,
      Map<Host, ConnectionPools.Protocol> negotiatedByHost, ResourceManager resources) {
    super(host, bootstrap, tls, UpstreamTransportSocket.Alpn.AUTO, resources);
    this.http1 = new Http1ConnectionPool(host, bootstrap, tls, this, resources);
    this.http2 = new Http2ConnectionPool(host, bootstrap, tls, this, resources);
    this.negotiatedByHost = negotiatedByHost;
    this.negotiated = negotiatedByHost.get(host);
  }

  @Override
  public @Nullable Cancellable newStream(PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
    ConnectionPools.Protocol p = negotiated;
    if (p != null) {
      return (p == ConnectionPools.Protocol.HTTP2 ? http2 : http1).newStream(callbacks, response);
    }
    if (requestsOverflow(callbacks)) {
      return null;
    }
    Pending w = enqueue(callbacks, response);
    if (w != null && connecting == 0 && !draining && canOpenConnection()) {
      open(this);
    }
    return w;
  }

  /** Opens a connection for {@code part} (this pool: the probe) within the circuit breakers it checked. */
  void open(PoolBase part) {
    part.connect(NO_CODEC, new ConnectListener() {
      @Override
      public void onConnected(Channel channel) {
        place(channel, part);
      }

      @Override
      public void onConnectFailed(ResetReason reason, String details) {
        part.onConnectFailed(reason, details);
      }
    });
  }

  /**
   * The handshake of a connection opened for {@code from} completed: its ALPN becomes the host's
   * protocol and picks the part that installs the codec; the requests waiting for the connection
   * move to that part first, so the connection serves them.
   */
  private void place(Channel channel, PoolBase from) {
    boolean h2 = H2.equals(UpstreamTransportSocket.negotiatedProtocol(channel));
    ConnectionPools.Protocol p = h2 ? ConnectionPools.Protocol.HTTP2 : ConnectionPools.Protocol.HTTP1;
    if (negotiated != p) {
      negotiated = p;
      negotiatedByHost.put(host, p);
    }
    PoolBase to = h2 ? http2 : http1;
    to.takePending(this);
    if (from != to) {
      to.takePending(from);
    }
    if (h2) {
      http2.adopt(channel);
    } else {
      http1.adopt(channel);
    }
  }

  @Override
  public void drain() {
    draining = true;
    http1.drain();
    http2.drain();
  }

  @Override
  public boolean idle() {
    return pending.isEmpty() && connecting == 0 && http1.idle() && http2.idle();
  }
}
