package dev.sluice.http;

import dev.sluice.router.RouteCompileContext;
import dev.sluice.router.RouteTable;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import org.jspecify.annotations.Nullable;

/**
 * Routes from an RDS subscription ({@code rds.route_config_name}): empty until the first version
 * arrives (requests meanwhile get 404 NR, as Envoy), then swapped atomically on each update.
 */
public final class RdsRouteConfigProvider implements RouteConfigProvider {
  private final String name;
  private final RouteCompileContext compileContext;
  private volatile @Nullable RouteTable current;

  public RdsRouteConfigProvider(String name, RouteCompileContext compileContext) {
    this.name = name;
    this.compileContext = compileContext;
  }

  @Override
  public @Nullable RouteTable current() {
    return current;
  }

  @Override
  public String name() {
    return name;
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
    return RouteTable.compile(config, compileContext);
  }

  void publish(RouteTable table) {
    current = table;
  }
}
