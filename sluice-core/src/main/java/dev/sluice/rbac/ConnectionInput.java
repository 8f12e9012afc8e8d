package dev.sluice.rbac;

import com.google.protobuf.Value;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@link RbacInput} of a downstream connection (network filter) or of one request on it (HTTP
 * filter). Sluice keeps no filter-state store; the filter-state objects Istio's policies read are
 * the ones its {@code istio_authn} filter derives from the TLS connection, derived here the same
 * way: {@code io.istio.peer_principal} (the peer certificate's URI SAN) and
 * {@code io.istio.local_principal} (this proxy's).
 */
public final class ConnectionInput implements RbacInput {
  public static final String PEER_PRINCIPAL = "io.istio.peer_principal";
  public static final String LOCAL_PRINCIPAL = "io.istio.local_principal";
  /** Read once per connection: the session does not change after the handshake. */
  private static final AttributeKey<TlsPeer> TLS_PEER = AttributeKey.valueOf("sluice.rbac.tlsPeer");

  private final DownstreamConnection connection;
  private final @Nullable Http2Headers headers;
  private final @Nullable StreamInfo stream;

  private ConnectionInput(DownstreamConnection connection, @Nullable Http2Headers headers, @Nullable StreamInfo stream) {
    this.connection = connection;
    this.headers = headers;
    this.stream = stream;
  }

  public static ConnectionInput of(DownstreamConnection connection) {
    return new ConnectionInput(connection, null, null);
  }

  public static ConnectionInput of(DownstreamConnection connection, Http2Headers headers, StreamInfo stream) {
    return new ConnectionInput(connection, headers, stream);
  }

  @Override
  public @Nullable Http2Headers headers() {
    return headers;
  }

  @Override
  public InetSocketAddress directRemoteAddress() {
    return connection.remoteAddress;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    InetSocketAddress a = stream == null ? null : stream.downstreamRemoteAddress;
    return a != null ? a : connection.remoteAddress;
  }

  @Override
  public InetSocketAddress localAddress() {
    return connection.localAddress;
  }

  @Override
  public @Nullable String requestedServerName() {
    return connection.serverName;
  }

  @Override
  public @Nullable TlsPeer tls() {
    TlsPeer cached = connection.channel.attr(TLS_PEER).get();
    if (cached != null) {
      return cached;
    }
    SslHandler ssl = connection.channel.pipeline().get(SslHandler.class);
    if (ssl == null || !ssl.handshakeFuture().isSuccess()) {
      return null;
    }
    TlsPeer peer = TlsPeer.of(ssl.engine().getSession());
    connection.channel.attr(TLS_PEER).set(peer);
    return peer;
  }

  @Override
  public @Nullable String filterState(String key) {
    TlsPeer tls;
    return switch (key) {
      case PEER_PRINCIPAL -> (tls = tls()) == null ? null : tls.peerPrincipal();
      case LOCAL_PRINCIPAL -> (tls = tls()) == null ? null : tls.localUriSan();
      default -> null;
    };
  }

  /** The request's dynamic metadata (HTTP), else the connection's (network filter). */
  @Override
  public @Nullable Value dynamicMetadata(String filter, List<String> path) {
    return (stream != null ? stream : connection.streamInfo).dynamicMetadataValue(filter, path);
  }
}
