package dev.sluice.extensions.filters.listener.original_src;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.ListenerFilter;
import dev.sluice.upstream.pool.UpstreamSource;
import java.net.InetSocketAddress;

/**
 * At accept, makes the connection's upstream connections bind to its remote address with
 * {@code IP_TRANSPARENT} and {@code SO_MARK = mark}: the app behind the proxy sees the real client
 * address, and the mark lets policy routing ({@code ip rule add fwmark 1337 lookup 133}) bring the
 * app's replies, addressed to a host that is not local, back to the proxy. A connection without an
 * IP peer (an internal listener's) is left alone, as Envoy does.
 */
final class OriginalSrcFilter implements ListenerFilter {
  private final int mark;

  OriginalSrcFilter(int mark) {
    this.mark = mark;
  }

  @Override
  public Status onAccept(DownstreamConnection connection) {
    if (connection.channel.remoteAddress() instanceof InetSocketAddress) {
      UpstreamSource.set(connection, connection.remoteAddress, mark);
    }
    return Status.CONTINUE;
  }
}
