package dev.sluice.http;

import dev.sluice.api.config.ConfigException;
import dev.sluice.router.RouteCompileContext;
import dev.sluice.router.RouteTable;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The routes of a connection manager with {@code scoped_routes}: a set of routing scopes, each a
 * key and a route table, the table chosen per request from the request's headers
 * ({@link ScopeKeyBuilder}). Scopes come inline ({@code scoped_route_configurations_list}) or over
 * SRDS ({@link ScopedRoutesRegistry}); a scope's table is its inline {@code route_configuration},
 * or the RDS route configuration {@code route_configuration_name}, shared through
 * {@link RdsRouteConfigRegistry} as any RDS table. Each new scope set is published atomically; a
 * stream keeps the set it started with ({@link #scopes()}).
 *
 * <p>{@code on_demand} scopes are loaded eagerly, as the others: the on-demand filter does VHDS only.
 */
public final class ScopedRoutesProvider implements RouteConfigProvider {
  private final String name;
  private final ScopeKeyBuilder keys;
  private final RouteCompileContext compileContext;
  private final @Nullable RdsRouteConfigRegistry rds;
  /** The RDS providers of the scopes by route configuration name, kept from one scope set to the next. */
  private final Map<String, RouteConfigProvider> rdsProviders = new HashMap<>();
  private volatile ScopedRouteTables tables;

  /**
   * @param rds where scopes' RDS route configurations come from; null (no server) gives each such
   *     scope a provider that stays empty
   */
  ScopedRoutesProvider(String name, ScopeKeyBuilder keys, RouteCompileContext compileContext,
      @Nullable RdsRouteConfigRegistry rds) {
    this.name = name;
    this.keys = keys;
    this.compileContext = compileContext;
    this.rds = rds;
    this.tables = new ScopedRouteTables(keys, Map.of());
  }

  /** Always null: a scoped connection manager has no single table; see {@link #scopes()}. */
  @Override
  public @Nullable RouteTable current() {
    return null;
  }

  @Override
  public ScopedRouteTables scopes() {
    return tables;
  }

  /** The {@code scoped_routes.name}. */
  @Override
  public String name() {
    return name;
  }

  /**
   * Checks one scope on its own (Envoy's proto validation and its rule that a scope has one route
   * configuration).
   *
   * @throws ConfigException naming the scope's field
   */
  public static void check(ScopedRouteConfiguration scope) {
    if (scope.getName().isEmpty()) {
      throw new ConfigException("name", "value length must be at least 1 characters");
    }
    if (!scope.hasKey() || scope.getKey().getFragmentsCount() == 0) {
      throw new ConfigException("key.fragments", "value must contain at least 1 item(s)");
    }
    for (int i = 0; i < scope.getKey().getFragmentsCount(); i++) {
      if (!scope.getKey().getFragments(i).hasStringKey()) {
        throw new ConfigException("key.fragments[" + i + "].string_key", "a string_key is required");
      }
    }
    boolean named = !scope.getRouteConfigurationName().isEmpty();
    if (named == scope.hasRouteConfiguration()) {
      throw new ConfigException("route_configuration_name",
          "exactly one of route_configuration_name and route_configuration is required");
    }
  }

  /**
   * Compiles a scope set for this connection manager without publishing it.
   *
   * @throws ConfigException naming the scope ({@code scopes[<name>].<field>}) that cannot be used
   */
  ScopedRouteTables compile(Collection<ScopedRouteConfiguration> scopes) {
    Map<ScopeKey, RouteConfigProvider> byKey = new HashMap<>();
    Map<ScopeKey, String> owners = new HashMap<>();
    for (ScopedRouteConfiguration scope : scopes) {
      String at = "scopes[" + scope.getName() + "]";
      try {
        check(scope);
      } catch (ConfigException e) {
        throw e.under(at);
      }
      ScopeKey key = ScopeKey.of(scope.getKey());
      String first = owners.putIfAbsent(key, scope.getName());
      if (first != null) {
        throw new ConfigException(at + ".key", "scope key conflict found, first scope is '" + first
            + "', second scope is '" + scope.getName() + "'");
      }
      byKey.put(key, table(scope, at));
    }
    return new ScopedRouteTables(keys, byKey);
  }

  private RouteConfigProvider table(ScopedRouteConfiguration scope, String at) {
    if (scope.hasRouteConfiguration()) {
      try {
        return RouteConfigProvider.of(RouteTable.compile(scope.getRouteConfiguration(), compileContext),
            scope.getRouteConfiguration().getName());
      } catch (ConfigException e) {
        throw e.under(at + ".route_configuration");
      }
    }
    String routeName = scope.getRouteConfigurationName();
    return rdsProviders.computeIfAbsent(routeName, n ->
        rds != null ? rds.provider(n, compileContext) : new RdsRouteConfigProvider(n, compileContext));
  }

  /** Publishes a compiled set; RDS providers no scope uses any more are let go. */
  void publish(ScopedRouteTables next, Collection<ScopedRouteConfiguration> scopes) {
    tables = next;
    Set<String> used = new HashSet<>();
    scopes.forEach(s -> used.add(s.getRouteConfigurationName()));
    rdsProviders.keySet().retainAll(used);
  }
}
