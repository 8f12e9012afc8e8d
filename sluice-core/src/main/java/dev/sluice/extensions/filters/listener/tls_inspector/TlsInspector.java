package dev.sluice.extensions.filters.listener.tls_inspector;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.ListenerFilter;
import io.netty.buffer.ByteBuf;

/** Per connection: waits for the ClientHello and records SNI, ALPN and {@code tls} on the connection. */
final class TlsInspector implements ListenerFilter {
  // A ClientHello of the maximum size plus the headers of the records carrying it.
  private static final int MAX_READ = ClientHelloParser.MAX_CLIENT_HELLO + 4 + 5 * 8;
  private final TlsInspectorStats stats;

  TlsInspector(TlsInspectorStats stats) {
    this.stats = stats;
  }

  @Override
  public Status onAccept(DownstreamConnection connection) {
    return Status.NEED_MORE_DATA;
  }

  @Override
  public int maxReadBytes() {
    return MAX_READ;
  }

  @Override
  public Status onData(ByteBuf peeked, DownstreamConnection connection, boolean endOfStream) {
    ClientHelloParser.Result r = ClientHelloParser.parse(peeked);
    switch (r.outcome()) {
      case NEED_MORE -> {
        if (endOfStream) {
          stats.tlsNotFound.inc();
          return Status.CONTINUE;
        }
        return Status.NEED_MORE_DATA;
      }
      case NOT_TLS -> {
        stats.tlsNotFound.inc();
        return Status.CONTINUE;
      }
      case TOO_LARGE -> {
        stats.clientHelloTooLarge.inc();
        return Status.CLOSE;
      }
      case CLIENT_HELLO -> {
        stats.tlsFound.inc();
        connection.transportProtocol = "tls";
        if (r.serverName() != null) {
          stats.sniFound.inc();
          connection.serverName = r.serverName();
        } else {
          stats.sniNotFound.inc();
        }
        if (r.alpn().isEmpty()) {
          stats.alpnNotFound.inc();
        } else {
          stats.alpnFound.inc();
          connection.applicationProtocols = r.alpn();
        }
        return Status.CONTINUE;
      }
    }
    throw new AssertionError(r.outcome());
  }
}
