package dev.sluice.extensions.filters.listener.original_dst;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.network.ListenerFilter;

/** Replaces the connection's local address with its original destination, at accept. */
final class OriginalDstFilter implements ListenerFilter {
  static final OriginalDstFilter INSTANCE = new OriginalDstFilter();

  @Override
  public Status onAccept(DownstreamConnection connection) {
    connection.localAddress = OriginalDestination.lookup(connection.channel);
    connection.localAddressRestored = true;
    connection.streamInfo.downstreamLocalAddress = connection.localAddress;
    return Status.CONTINUE;
  }
}
