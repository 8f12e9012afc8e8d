package dev.sluice.xds;

import com.google.protobuf.Message;
import dev.sluice.api.config.ConfigException;
import dev.sluice.extensions.filters.network.http_connection_manager.ListenerConnectionManager;
import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.http.ScopedRoutesProvider;
import dev.sluice.http.ScopedRoutesRegistry;
import dev.sluice.xds.ResourceHandler.ResourceError;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SRDS (control thread): the {@code ScopedRouteConfiguration}s of each config source, pushed to
 * the connection managers whose {@code scoped_routes.scoped_rds} names that source. As with ADS
 * every SRDS subscription is a wildcard one, all connection managers on one source share its
 * scopes. A scope that cannot be used (a field missing, a key another scope holds, an inline route
 * configuration that does not compile) is rejected by name and keeps its previous version; the
 * others apply. A scope is routed with once its route configuration has arrived (until then, its
 * previous version if it had one). Envoy's stats per connection manager: {@code http.<stat_prefix>.scoped_rds.<name>.*}.
 */
final class ScopedRoutesApplier {
  private static final Logger log = LoggerFactory.getLogger("sluice.xds");

  /**
   * A connection manager's use of SRDS: its {@code scoped_routes.name}, the SRDS source, the source
   * of its scopes' route configurations, and its stat prefix.
   */
  record ScopedUse(String name, ConfigSource srdsSource, ConfigSource rdsSource, ScopedRoutes config, String statPrefix) {}

  /** Envoy's SRDS subscription stats plus {@code config_reload} (the scope set changed). */
  private record SrdsStats(SubscriptionStats subscription, Counter configReload) {}

  private final ScopedRoutesRegistry registry;
  private final StatsScope stats;
  /** The accepted scopes of each source that has answered, by scope name (values never change: read by admin). */
  private final Map<ConfigSource, Map<String, ScopedRouteConfiguration>> scopes = new ConcurrentHashMap<>();
  /** The SRDS source of each {@code scoped_routes.name} seen (read by admin for {@code /config_dump}). */
  private final Map<String, ConfigSource> sourcesByName = new ConcurrentHashMap<>();
  private final Map<String, SrdsStats> srdsStats = new HashMap<>();
  /** What the connection managers of each source route with (see {@link #publishable}). */
  private final Map<ConfigSource, Map<String, ScopedRouteConfiguration>> published = new HashMap<>();
  /** True once the RDS route configuration of that name has been published. */
  private final Predicate<String> routeArrived;

  ScopedRoutesApplier(ScopedRoutesRegistry registry, StatsScope stats, Predicate<String> routeArrived) {
    this.registry = registry;
    this.stats = stats;
    this.routeArrived = routeArrived;
  }

  /**
   * The SRDS uses of a listener's connection managers.
   *
   * @throws ConfigException naming the field that cannot be used
   */
  static List<ScopedUse> uses(Listener listener) {
    List<ScopedUse> uses = new ArrayList<>();
    for (ListenerConnectionManager m : ListenerConnectionManager.of(listener)) {
      HttpConnectionManager hcm = m.config();
      if (hcm.hasScopedRoutes() && hcm.getScopedRoutes().hasScopedRds()) {
        String path = m.path();
        ScopedRoutes s = hcm.getScopedRoutes();
        if (!s.hasRdsConfigSource()) {
          throw new ConfigException(path + ".scoped_routes.rds_config_source", "value is required with scoped_rds");
        }
        uses.add(new ScopedUse(s.getName(),
            XdsSources.key(s.getScopedRds().getScopedRdsConfigSource(), path + ".scoped_routes.scoped_rds.scoped_rds_config_source"),
            XdsSources.key(s.getRdsConfigSource(), path + ".scoped_routes.rds_config_source"), s, hcm.getStatPrefix()));
      }
    }
    return uses;
  }

  /** The accepted scopes of {@code source}, or null before its first response. */
  @Nullable Map<String, ScopedRouteConfiguration> scopes(ConfigSource source) {
    return scopes.get(source);
  }

  /** The SRDS source of each {@code scoped_routes.name} seen, by name. */
  Map<String, ConfigSource> sourcesByName() {
    return new java.util.TreeMap<>(sourcesByName);
  }

  /** The RDS route configuration names the scopes of {@code use} need. */
  Set<String> routeNames(ScopedUse use) {
    Set<String> names = new TreeSet<>();
    Map<String, ScopedRouteConfiguration> s = scopes.get(use.srdsSource());
    if (s != null) {
      s.values().forEach(scope -> {
        if (!scope.getRouteConfigurationName().isEmpty()) {
          names.add(scope.getRouteConfigurationName());
        }
      });
    }
    return names;
  }

  /** Creates the stats of a connection manager's SRDS use (before its first update). */
  void registerStats(ScopedUse use) {
    srdsStats(use);
    sourcesByName.putIfAbsent(use.name(), use.srdsSource());
  }

  private SrdsStats srdsStats(ScopedUse use) {
    String prefix = "http." + use.statPrefix() + ".scoped_rds." + use.name() + ".";
    return srdsStats.computeIfAbsent(prefix, p -> {
      StatsScope scope = stats.scope(p);
      return new SrdsStats(new SubscriptionStats(scope), scope.counter("config_reload"));
    });
  }

  /**
   * One SRDS response from {@code source}, for the connection managers {@code uses} (those on that
   * source).
   */
  List<ResourceError> apply(ConfigSource source, ResourceHandler.Update update, Collection<ScopedUse> uses) {
    Map<String, ScopedRouteConfiguration> current = scopes.getOrDefault(source, Map.of());
    Map<String, ScopedRouteConfiguration> next = new LinkedHashMap<>(current);
    update.removed().forEach(next::remove);
    Map<String, ScopedRouteConfiguration> candidates = new LinkedHashMap<>();
    List<ResourceError> errors = new ArrayList<>();
    for (Map.Entry<String, Message> e : update.resources().entrySet()) {
      ScopedRouteConfiguration scope = (ScopedRouteConfiguration) e.getValue();
      try {
        ScopedRoutesProvider.check(scope);
        if (scope.hasRouteConfiguration()) {
          for (ScopedUse use : uses) {
            registry.validate(use.name(), Map.of(scope.getName(), scope));
          }
        }
        candidates.put(e.getKey(), scope);
      } catch (ConfigException ex) {
        errors.add(new ResourceError(e.getKey(), ex.getMessage()));
      }
    }
    // Keys: the scopes kept as they are hold theirs; each new version takes its key unless held.
    Map<List<String>, String> owners = new HashMap<>();
    next.forEach((name, scope) -> {
      if (!candidates.containsKey(name)) {
        owners.put(key(scope), name);
      }
    });
    for (ScopedRouteConfiguration scope : candidates.values()) {
      String first = owners.putIfAbsent(key(scope), scope.getName());
      if (first != null) {
        errors.add(new ResourceError(scope.getName(), "key: scope key conflict found, first scope is '" + first
            + "', second scope is '" + scope.getName() + "'"));
      } else {
        next.put(scope.getName(), scope);
      }
    }
    try {
      for (ScopedUse use : uses) {
        registry.validate(use.name(), next);
      }
      publish(source, publishable(next, published.getOrDefault(source, Map.of())), uses);
    } catch (ConfigException ex) {
      // A rejected scope's previous version may hold a key a new scope took: refuse the whole update.
      errors.clear();
      update.resources().keySet().forEach(n -> errors.add(new ResourceError(n, ex.getMessage())));
      next = new LinkedHashMap<>(current);
    }
    boolean changed = !next.equals(current) || !scopes.containsKey(source);
    scopes.put(source, java.util.Collections.unmodifiableMap(next));
    long now = System.currentTimeMillis();
    for (ScopedUse use : uses) {
      SrdsStats st = srdsStats(use);
      st.subscription().updateAttempt.inc();
      if (errors.isEmpty()) {
        st.subscription().accepted(update.version(), now);
      } else {
        st.subscription().updateRejected.inc();
      }
      if (changed) {
        st.configReload().inc();
      }
    }
    return errors;
  }

  /**
   * The scopes to route with: each accepted scope whose route configuration is there (inline, or
   * arrived over RDS); in place of one whose new route configuration has not arrived yet, its
   * previous version, so that re-pointing a scope fails no request (a new scope serves once its
   * routes come).
   */
  private Map<String, ScopedRouteConfiguration> publishable(Map<String, ScopedRouteConfiguration> accepted,
      Map<String, ScopedRouteConfiguration> before) {
    Map<String, ScopedRouteConfiguration> out = new LinkedHashMap<>();
    accepted.forEach((name, scope) -> {
      ScopedRouteConfiguration old = before.get(name);
      if (routed(scope)) {
        out.put(name, scope);
      } else if (old != null && routed(old)) {
        out.put(name, old);
      }
    });
    return out;
  }

  private boolean routed(ScopedRouteConfiguration scope) {
    return scope.hasRouteConfiguration() || routeArrived.test(scope.getRouteConfigurationName());
  }

  /** @throws ConfigException when a connection manager cannot compile the set (nothing published then) */
  private void publish(ConfigSource source, Map<String, ScopedRouteConfiguration> set, Collection<ScopedUse> uses) {
    for (ScopedUse use : uses) {
      registry.validate(use.name(), set);
    }
    for (ScopedUse use : uses) {
      registry.update(use.name(), set);
    }
    published.put(source, set);
  }

  /**
   * Route configurations arrived: the scopes that were waiting for theirs are published to the
   * connection managers on their source ({@code usesOf}).
   */
  void routesChanged(Function<ConfigSource, List<ScopedUse>> usesOf) {
    for (Map.Entry<ConfigSource, Map<String, ScopedRouteConfiguration>> e : scopes.entrySet()) {
      Map<String, ScopedRouteConfiguration> before = published.getOrDefault(e.getKey(), Map.of());
      Map<String, ScopedRouteConfiguration> next = publishable(e.getValue(), before);
      if (!next.equals(before)) {
        try {
          publish(e.getKey(), next, usesOf.apply(e.getKey()));
        } catch (ConfigException ex) {
          // A previous version kept in place of a waiting one may clash with a newer scope's key.
          log.warn("scoped routes not republished: {}", ex.getMessage());
        }
      }
    }
  }

  /** The keys of a scope, compared as Envoy does: every fragment, in order. */
  private static List<String> key(ScopedRouteConfiguration scope) {
    return scope.getKey().getFragmentsList().stream().map(ScopedRouteConfiguration.Key.Fragment::getStringKey).toList();
  }
}
