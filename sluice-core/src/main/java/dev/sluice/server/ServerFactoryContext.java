package dev.sluice.server;

import dev.sluice.api.FactoryContext;
import dev.sluice.http.RdsRouteConfigRegistry;
import dev.sluice.upstream.pool.ConnectionPools;

/** The core's factory context: the public one plus what only core extensions (the router) use. */
public interface ServerFactoryContext extends FactoryContext {
  ConnectionPools connectionPools();

  /** Where connection managers with {@code rds} get their route configurations. */
  RdsRouteConfigRegistry routeConfigs();
}
