package dev.sluice.admin;

import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import dev.sluice.extensions.filters.network.http_connection_manager.ListenerConnectionManager;
import io.envoyproxy.envoy.admin.v3.ScopedRoutesConfigDump;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The inline part of {@code /config_dump}'s {@code ScopedRoutesConfigDump}: the
 * {@code scoped_route_configurations_list} of each HTTP connection manager of the listeners, by
 * {@code scoped_routes.name} (the SRDS part comes from the xDS client).
 */
public final class ScopedRoutesConfigDumps {
  private ScopedRoutesConfigDumps() {}

  /** Adds {@code inline_scoped_route_configs} for the listeners' connection managers, once per name. */
  public static void addInline(ScopedRoutesConfigDump.Builder dump, Collection<Listener> listeners,
      Timestamp loaded, Predicate<String> names) {
    Map<String, ScopedRoutes> byName = new TreeMap<>();
    for (Listener l : listeners) {
      // The listener compiled, so its connection managers decode.
      for (ListenerConnectionManager m : ListenerConnectionManager.decodable(l)) {
        HttpConnectionManager hcm = m.config();
        if (hcm.hasScopedRoutes() && hcm.getScopedRoutes().hasScopedRouteConfigurationsList()) {
          byName.putIfAbsent(hcm.getScopedRoutes().getName(), hcm.getScopedRoutes());
        }
      }
    }
    byName.forEach((name, scoped) -> {
      if (names.test(name)) {
        var entry = ScopedRoutesConfigDump.InlineScopedRouteConfigs.newBuilder().setName(name).setLastUpdated(loaded);
        scoped.getScopedRouteConfigurationsList().getScopedRouteConfigurationsList()
            .forEach(s -> entry.addScopedRouteConfigs(Any.pack(s)));
        dump.addInlineScopedRouteConfigs(entry);
      }
    });
  }
}
