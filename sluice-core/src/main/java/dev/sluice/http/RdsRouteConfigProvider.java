package dev.sluice.http;

import dev.sluice.router.RouteCompileContext;
import dev.sluice.router.RouteTable;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Routes from an RDS subscription ({@code rds.route_config_name}): empty until the first version
 * arrives (requests meanwhile get 404 NR, as Envoy), then swapped atomically on each update.
 */
public final class RdsRouteConfigProvider implements RouteConfigProvider {
  private final String name;
  private final RouteCompileContext compileContext;
  /** The registry that made this provider (VHDS on demand goes through it); null outside a server. */
  private final @Nullable RdsRouteConfigRegistry registry;
  private volatile @Nullable RouteTable current;

  public RdsRouteConfigProvider(String name, RouteCompileContext compileContext) {
    this(name, compileContext, null);
  }

  RdsRouteConfigProvider(String name, RouteCompileContext compileContext, @Nullable RdsRouteConfigRegistry registry) {
    this.name = name;
    this.compileContext = compileContext;
    this.registry = registry;
  }

  @Override
  public @Nullable RouteTable current() {
    return current;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean requestVirtualHost(String host, Consumer<Boolean> done) {
    RouteTable table = current;
    VirtualHostDiscovery discovery = registry == null ? null : registry.virtualHostDiscovery();
    if (table == null || !table.vhds() || discovery == null) {
      return false;
    }
    discovery.request(name, host, done);
    return true;
  }

  /**
   * Compiles and publishes a new version (control thread).
   *
   * @throws dev.sluice.api.config.ConfigException and keeps the previous table when it is invalid
   */
  public void update(RouteConfiguration config) {
    publish(compile(config));
  }

  RouteTable compile(RouteConfiguration config) {
    return RouteTable.compileRds(config, compileContext);
  }

  void publish(RouteTable table) {
    current = table;
  }
}
