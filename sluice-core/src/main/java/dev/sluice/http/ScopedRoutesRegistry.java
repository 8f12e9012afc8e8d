package dev.sluice.http;

import dev.sluice.api.config.ConfigException;
import dev.sluice.router.RouteCompileContext;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SRDS scopes of one server by {@code scoped_routes.name}, and the providers of the connection
 * managers that use them (held weakly, as {@link RdsRouteConfigRegistry} holds its providers). The
 * xDS client pushes each new scope set here; a connection manager built later starts from the last
 * set received.
 */
public final class ScopedRoutesRegistry {
  private static final Logger log = LoggerFactory.getLogger("sluice.rds");

  private final @Nullable RdsRouteConfigRegistry rds;
  private final Map<String, Map<String, ScopedRouteConfiguration>> scopes = new HashMap<>();
  private final Map<String, Set<ScopedRoutesProvider>> providers = new HashMap<>();

  /** @param rds where the scopes' RDS route configurations come from (null: none, tests) */
  public ScopedRoutesRegistry(@Nullable RdsRouteConfigRegistry rds) {
    this.rds = rds;
  }

  /** A provider of the SRDS scopes of {@code name}, holding the last set received if it compiles here. */
  public synchronized ScopedRoutesProvider provider(String name, ScopeKeyBuilder keys, RouteCompileContext compileContext) {
    ScopedRoutesProvider provider = new ScopedRoutesProvider(name, keys, compileContext, rds);
    Map<String, ScopedRouteConfiguration> last = scopes.get(name);
    if (last != null) {
      try {
        provider.publish(provider.compile(last.values()), last.values());
      } catch (ConfigException e) {
        log.warn("scoped routes '{}' do not compile for a new connection manager: {}", name, e.getMessage());
      }
    }
    providers.computeIfAbsent(name, n -> Collections.newSetFromMap(new WeakHashMap<>())).add(provider);
    return provider;
  }

  /**
   * A provider of inline scopes ({@code scoped_route_configurations_list}).
   *
   * @throws ConfigException naming the scope that cannot be used
   */
  public ScopedRoutesProvider inline(String name, ScopeKeyBuilder keys, RouteCompileContext compileContext,
      List<ScopedRouteConfiguration> list) {
    ScopedRoutesProvider provider = new ScopedRoutesProvider(name, keys, compileContext, rds);
    provider.publish(provider.compile(list), list);
    return provider;
  }

  /**
   * Compiles {@code next} for every provider of {@code name} without publishing it.
   *
   * @throws ConfigException naming the first scope that does not compile
   */
  public synchronized void validate(String name, Map<String, ScopedRouteConfiguration> next) {
    for (ScopedRoutesProvider p : providers.getOrDefault(name, Set.of())) {
      p.compile(next.values());
    }
  }

  /**
   * A new scope set for {@code name}: compiled for every provider, then published to all, so one
   * that fails leaves every provider on its previous set.
   *
   * @throws ConfigException naming the first scope that does not compile
   */
  public synchronized void update(String name, Map<String, ScopedRouteConfiguration> next) {
    List<ScopedRoutesProvider> users = new ArrayList<>(providers.getOrDefault(name, Set.of()));
    List<ScopedRouteTables> compiled = new ArrayList<>(users.size());
    for (ScopedRoutesProvider p : users) {
      compiled.add(p.compile(next.values()));
    }
    for (int i = 0; i < users.size(); i++) {
      users.get(i).publish(compiled.get(i), next.values());
    }
    scopes.put(name, new LinkedHashMap<>(next));
  }
}
