package dev.sluice.server;

import dev.sluice.api.FactoryContext;
import dev.sluice.http.RdsRouteConfigRegistry;
import dev.sluice.upstream.pool.ConnectionPools;
import java.util.function.BooleanSupplier;

/** The core's factory context: the public one plus what only core extensions (the router) use. */
public interface ServerFactoryContext extends FactoryContext {
  ConnectionPools connectionPools();

  /** Where connection managers with {@code rds} get their route configurations. */
  RdsRouteConfigRegistry routeConfigs();

  /**
   * Envoy's drainClose() while the server's health check is failed ({@code /healthcheck/fail}):
   * true then on a listener whose {@code drain_type} is DEFAULT, never on a MODIFY_ONLY one. The
   * HTTP connection manager asks it on each response (one volatile read). Never, for a context
   * without a server health check (test harnesses).
   */
  default BooleanSupplier healthCheckDrainClose() {
    return () -> false;
  }
}
