package dev.sluice.extensions.filters.network.http_connection_manager;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.ArrayList;
import java.util.List;

/**
 * One HTTP connection manager in a listener's config, with the field path of its
 * {@code typed_config} ({@code filter_chains[1].filters[0].typed_config},
 * {@code default_filter_chain.filters[0].typed_config}): what the xDS client (RDS, SRDS names and
 * timeouts) and the config dump read from a listener without building it.
 */
public record ListenerConnectionManager(String path, HttpConnectionManager config) {
  private static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

  /**
   * The connection managers of the listener's filter chains, then of its default chain, in order.
   *
   * @throws ConfigException naming the {@code typed_config} that does not decode
   */
  public static List<ListenerConnectionManager> of(Listener listener) {
    return collect(listener, true);
  }

  /** As {@link #of}, leaving out one that does not decode (building the listener reports it). */
  public static List<ListenerConnectionManager> decodable(Listener listener) {
    return collect(listener, false);
  }

  private static List<ListenerConnectionManager> collect(Listener listener, boolean strict) {
    List<ListenerConnectionManager> out = new ArrayList<>();
    for (int c = 0; c < listener.getFilterChainsCount(); c++) {
      add(listener.getFilterChains(c), "filter_chains[" + c + "]", strict, out);
    }
    if (listener.hasDefaultFilterChain()) {
      add(listener.getDefaultFilterChain(), "default_filter_chain", strict, out);
    }
    return out;
  }

  private static void add(FilterChain chain, String chainPath, boolean strict, List<ListenerConnectionManager> out) {
    for (int f = 0; f < chain.getFiltersCount(); f++) {
      Filter filter = chain.getFilters(f);
      if (!filter.getTypedConfig().getTypeUrl().equals(TYPE_URL)) {
        continue;
      }
      String path = chainPath + ".filters[" + f + "].typed_config";
      try {
        out.add(new ListenerConnectionManager(path, filter.getTypedConfig().unpack(HttpConnectionManager.class)));
      } catch (InvalidProtocolBufferException e) {
        if (strict) {
          throw new ConfigException(path, "cannot decode HttpConnectionManager: " + e.getMessage());
        }
      }
    }
  }
}
