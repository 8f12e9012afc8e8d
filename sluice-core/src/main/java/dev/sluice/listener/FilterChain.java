package dev.sluice.listener;

import dev.sluice.api.network.NetworkFilter;
import java.util.List;

/**
 * One compiled {@code filter_chains[i]} (or the default chain): its transport socket installer and
 * network filters, built once; {@link #install} applies them to each connection it is chosen for.
 */
public record FilterChain(String name, NetworkFilter transportSocket, List<NetworkFilter> filters) {
  public FilterChain {
    filters = List.copyOf(filters);
  }

  void install(dev.sluice.api.network.DownstreamConnection connection) {
    transportSocket.install(connection);
    for (NetworkFilter f : filters) {
      f.install(connection);
    }
  }
}
