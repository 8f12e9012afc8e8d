package dev.sluice.server;

import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import dev.sluice.admin.ConfigDumpHandler;
import dev.sluice.admin.ScopedRoutesConfigDumps;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.extensions.filters.network.http_connection_manager.ListenerConnectionManager;
import dev.sluice.listener.ActiveListener;
import dev.sluice.listener.ListenerManager;
import dev.sluice.xds.DynamicResources;
import dev.sluice.xds.SdsSecretProvider;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.ScopedRoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The {@code /config_dump} sections of a server: bootstrap, clusters, listeners, the inline route
 * configs of its HTTP connection managers, and secrets. Resources from the bootstrap are static;
 * with xDS, the dynamic ones come from {@link DynamicResources} (versions, warming and error states,
 * RDS routes, EDS endpoints with {@code ?include_eds}) and SDS secrets from {@link SdsSecretProvider};
 * without it, any resource added through the API shows as dynamic.
 */
final class ConfigDumps {
  private final Bootstrap bootstrap;
  private final ClusterManager clusters;
  private final ListenerManager listeners;
  private final Timestamp loaded;
  private final Set<String> staticClusters;
  private final Set<String> staticListeners;
  /** The xDS state once the ADS client exists (null without dynamic_resources, or before). */
  private final Supplier<@Nullable DynamicResources> dynamic;
  private final @Nullable SdsSecretProvider secrets;

  ConfigDumps(Bootstrap bootstrap, ClusterManager clusters, ListenerManager listeners, Instant loaded,
      Supplier<@Nullable DynamicResources> dynamic, @Nullable SdsSecretProvider secrets) {
    this.dynamic = dynamic;
    this.secrets = secrets;
    this.bootstrap = bootstrap;
    this.clusters = clusters;
    this.listeners = listeners;
    this.loaded = Timestamp.newBuilder().setSeconds(loaded.getEpochSecond()).setNanos(loaded.getNano()).build();
    this.staticClusters = bootstrap.getStaticResources().getClustersList().stream()
        .map(io.envoyproxy.envoy.config.cluster.v3.Cluster::getName).collect(Collectors.toSet());
    this.staticListeners = bootstrap.getStaticResources().getListenersList().stream()
        .map(Listener::getName).collect(Collectors.toSet());
  }

  void register(ConfigDumpHandler handler) {
    handler.addProvider("bootstrap", names -> BootstrapConfigDump.newBuilder()
        .setBootstrap(bootstrap).setLastUpdated(loaded).build());
    handler.addProvider("clusters", names -> {
      ClustersConfigDump.Builder dump = ClustersConfigDump.newBuilder();
      DynamicResources xds = dynamic.get();
      if (xds != null) {
        xds.dumpClusters(dump, names);
      }
      List<Cluster> sorted = clusters.clusters().stream()
          .sorted(Comparator.comparing(c -> c.info().name())).toList();
      for (Cluster c : sorted) {
        if (!names.test(c.info().name())) {
          continue;
        }
        Any config = Any.pack(c.info().config());
        if (staticClusters.contains(c.info().name())) {
          dump.addStaticClusters(ClustersConfigDump.StaticCluster.newBuilder()
              .setCluster(config).setLastUpdated(loaded));
        } else if (xds == null) {
          dump.addDynamicActiveClusters(ClustersConfigDump.DynamicCluster.newBuilder()
              .setCluster(config));
        }
      }
      return dump.build();
    });
    handler.addProvider("listeners", names -> {
      ListenersConfigDump.Builder dump = ListenersConfigDump.newBuilder();
      DynamicResources xds = dynamic.get();
      if (xds != null) {
        xds.dumpListeners(dump, names);
      }
      for (ActiveListener l : listeners.listeners()) {
        if (!names.test(l.name())) {
          continue;
        }
        Any config = Any.pack(l.config());
        if (staticListeners.contains(l.name())) {
          dump.addStaticListeners(ListenersConfigDump.StaticListener.newBuilder()
              .setListener(config).setLastUpdated(loaded));
        } else if (xds == null) {
          dump.addDynamicListeners(ListenersConfigDump.DynamicListener.newBuilder().setName(l.name())
              .setActiveState(ListenersConfigDump.DynamicListenerState.newBuilder().setListener(config)));
        }
      }
      return dump.build();
    });
    handler.addProvider("routes", names -> {
      RoutesConfigDump.Builder dump = RoutesConfigDump.newBuilder();
      DynamicResources xds = dynamic.get();
      if (xds != null) {
        xds.dumpRoutes(dump, names);
      }
      for (ActiveListener l : listeners.listeners()) {
        for (HttpConnectionManager hcm : inlineRouteConfigs(l.config())) {
          if (names.test(hcm.getRouteConfig().getName())) {
            dump.addStaticRouteConfigs(RoutesConfigDump.StaticRouteConfig.newBuilder()
                .setRouteConfig(Any.pack(hcm.getRouteConfig())).setLastUpdated(loaded));
          }
        }
      }
      return dump.build();
    });
    // Envoy's key, sorting ScopedRoutesConfigDump between the listeners and the routes.
    handler.addProvider("route_scopes", names -> {
      ScopedRoutesConfigDump.Builder dump = ScopedRoutesConfigDump.newBuilder();
      ScopedRoutesConfigDumps.addInline(dump, listeners.listeners().stream().map(ActiveListener::config).toList(),
          loaded, names);
      DynamicResources xds = dynamic.get();
      if (xds != null) {
        xds.dumpScopedRoutes(dump, names);
      }
      return dump.build();
    });
    handler.addProvider("secrets", names -> {
      SecretsConfigDump.Builder dump = SecretsConfigDump.newBuilder();
      if (secrets != null) {
        secrets.dumpSecrets(dump, names);
      }
      return dump.build();
    });
    handler.setEndpointsProvider(names -> {
      EndpointsConfigDump.Builder dump = EndpointsConfigDump.newBuilder();
      DynamicResources xds = dynamic.get();
      if (xds != null) {
        xds.dumpEndpoints(dump, names);
      }
      return dump.build();
    });
  }

  /** The HTTP connection managers of a listener that carry an inline {@code route_config}. */
  private static List<HttpConnectionManager> inlineRouteConfigs(Listener listener) {
    // The listener compiled, so its connection managers decode.
    return ListenerConnectionManager.decodable(listener).stream().map(ListenerConnectionManager::config)
        .filter(HttpConnectionManager::hasRouteConfig).toList();
  }
}
