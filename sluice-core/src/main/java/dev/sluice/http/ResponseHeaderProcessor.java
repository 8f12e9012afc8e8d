package dev.sluice.http;

import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ServerHeaderTransformation;
import io.netty.handler.codec.http2.Http2Headers;

/** What the connection manager does to every response's headers on the way out (Envoy's behaviour). */
final class ResponseHeaderProcessor {
  private ResponseHeaderProcessor() {}

  static void process(ActiveStream stream, Http2Headers headers) {
    HttpConnectionManagerConfig config = stream.config();
    ServerHeaderTransformation t = config.serverHeaderTransformation();
    if (t == ServerHeaderTransformation.OVERWRITE || t == ServerHeaderTransformation.UNRECOGNIZED) {
      headers.set(Headers.SERVER, config.serverName());
    } else if (t == ServerHeaderTransformation.APPEND_IF_ABSENT && !headers.contains(Headers.SERVER)) {
      headers.set(Headers.SERVER, config.serverName());
    }
    // Hop-by-hop headers never cross the proxy (RFC 9110 7.6.1); the codec writes its own framing.
    headers.remove(Headers.CONNECTION);
    headers.remove(Headers.KEEP_ALIVE);
    headers.remove(Headers.PROXY_CONNECTION);
    headers.remove(Headers.TRANSFER_ENCODING);
    if (config.alwaysSetRequestIdInResponse() && stream.streamInfo().requestId != null) {
      headers.set(Headers.X_REQUEST_ID, stream.streamInfo().requestId);
    }
    if (!config.via().isEmpty()) {
      CharSequence via = headers.get(Headers.VIA);
      headers.set(Headers.VIA, via == null ? config.via() : via + ", " + config.via());
    }
  }
}
