package dev.sluice.http;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.NetworkFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType;
import io.netty.channel.ChannelPipeline;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's HTTP connection manager as a terminal network filter: picks the codec for a connection
 * (HTTP/1.1, HTTP/2, or AUTO: ALPN from TLS, else sniffing the HTTP/2 preface) and installs it.
 */
public final class HttpConnectionManager implements NetworkFilter {
  static final Logger LOG = LoggerFactory.getLogger("sluice.http");

  private final HttpConnectionManagerConfig config;

  public HttpConnectionManager(HttpConnectionManagerConfig config) {
    this.config = config;
  }

  public HttpConnectionManagerConfig config() {
    return config;
  }

  @Override
  public void install(DownstreamConnection connection) {
    ChannelPipeline p = connection.channel.pipeline();
    CodecType codec = config.codecType();
    if (codec == CodecType.HTTP1) {
      Http1ServerConnection.install(p, config, connection);
    } else if (codec == CodecType.HTTP2) {
      Http2ServerConnection.install(p, config, connection);
    } else {
      List<String> alpn = connection.applicationProtocols;
      if (connection.transportProtocol.equals("tls") && alpn.contains("h2") && negotiatedH2(connection)) {
        Http2ServerConnection.install(p, config, connection);
      } else {
        p.addLast("sluice-http-detect", new ProtocolDetector(config, connection));
      }
    }
  }

  /** With TLS terminated here, the negotiated ALPN decides (the ClientHello only offers). */
  private static boolean negotiatedH2(DownstreamConnection connection) {
    io.netty.handler.ssl.SslHandler ssl = connection.channel.pipeline().get(io.netty.handler.ssl.SslHandler.class);
    return ssl != null && "h2".equals(ssl.applicationProtocol());
  }
}
