package dev.sluice.http;

import dev.sluice.router.RouteCompileContext;
import dev.sluice.router.RouteTable;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RDS route configurations of one server by {@code route_config_name}, and the providers of
 * the connection managers that use them. The xDS client pushes each new {@code RouteConfiguration}
 * here; a connection manager built later (a new listener, or a new version of one) starts from the
 * last version received, as Envoy's route config provider manager shares one subscription per name.
 *
 * <p>Providers are held weakly: a provider lives as long as the connection managers (listeners and
 * their open connections) that hold it, so nothing has to unregister when a listener drains away.
 * Methods are synchronized because listeners may also be compiled off the control thread
 * (validation); updates themselves come from the control thread.
 */
public final class RdsRouteConfigRegistry {
  private static final Logger log = LoggerFactory.getLogger("sluice.rds");

  private final Map<String, RouteConfiguration> configs = new HashMap<>();
  private final Map<String, Set<RdsRouteConfigProvider>> providers = new HashMap<>();
  private final ScopedRoutesRegistry scopedRoutes = new ScopedRoutesRegistry(this);
  /** Set by the xDS client when it serves VHDS; null: no virtual host is fetched on demand. */
  private volatile @Nullable VirtualHostDiscovery virtualHostDiscovery;

  /** Where route configurations with {@code vhds} fetch a virtual host on demand (xDS client, at start). */
  public void virtualHostDiscovery(VirtualHostDiscovery discovery) {
    this.virtualHostDiscovery = discovery;
  }

  @Nullable VirtualHostDiscovery virtualHostDiscovery() {
    return virtualHostDiscovery;
  }

  /** The SRDS scopes and the connection managers with {@code scoped_routes}; their RDS tables come from here. */
  public ScopedRoutesRegistry scopedRoutes() {
    return scopedRoutes;
  }

  /**
   * A provider for {@code name} compiled with the connection manager's own context (its HTTP
   * filters decide how per-route configs compile); it already holds the last version received, if
   * that version compiles in this context.
   */
  public synchronized RdsRouteConfigProvider provider(String name, RouteCompileContext compileContext) {
    RdsRouteConfigProvider provider = new RdsRouteConfigProvider(name, compileContext, this);
    RouteConfiguration last = configs.get(name);
    if (last != null) {
      try {
        provider.update(last);
      } catch (dev.sluice.api.config.ConfigException e) {
        // Envoy would have rejected this version for every user; here it compiled elsewhere, so
        // only this connection manager's filters refuse it: it answers 404 until the next version.
        log.warn("route configuration '{}' does not compile for a new connection manager: {}", name, e.getMessage());
      }
    }
    providers.computeIfAbsent(name, n -> Collections.newSetFromMap(new WeakHashMap<>())).add(provider);
    return provider;
  }

  /**
   * A new version of {@code config.name}: compiled for every provider first, then published to all,
   * so one that fails leaves every provider on its previous version.
   *
   * @throws dev.sluice.api.config.ConfigException naming the field of the first compile error
   */
  public synchronized void update(RouteConfiguration config) {
    List<RdsRouteConfigProvider> users = new ArrayList<>(providers.getOrDefault(config.getName(), Set.of()));
    List<RouteTable> tables = new ArrayList<>(users.size());
    for (RdsRouteConfigProvider p : users) {
      tables.add(p.compile(config));
    }
    for (int i = 0; i < users.size(); i++) {
      users.get(i).publish(tables.get(i));
    }
    configs.put(config.getName(), config);
  }

  /**
   * Compiles {@code config} for every provider of its name without publishing it, so that a version
   * the xDS client holds back (until the clusters it names have warmed) is refused when it arrives.
   *
   * @throws dev.sluice.api.config.ConfigException naming the field of the first compile error
   */
  public synchronized void validate(RouteConfiguration config) {
    for (RdsRouteConfigProvider p : providers.getOrDefault(config.getName(), Set.of())) {
      p.compile(config);
    }
  }

  /** Forgets a route configuration the control plane removed; providers keep their last table. */
  public synchronized void remove(String name) {
    configs.remove(name);
  }

  /** The last version received for {@code name}, or null. */
  public synchronized @Nullable RouteConfiguration config(String name) {
    return configs.get(name);
  }

  /** Every route configuration received, by name (for {@code /config_dump}). */
  public synchronized Map<String, RouteConfiguration> configs() {
    return Map.copyOf(configs);
  }
}
