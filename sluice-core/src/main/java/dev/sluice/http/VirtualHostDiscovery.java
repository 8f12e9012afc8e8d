package dev.sluice.http;

import java.util.function.Consumer;

/**
 * On-demand virtual hosts (VHDS) for the route configurations of the RDS registry; the xDS client
 * implements it. Called from worker threads, only on the miss path of a request.
 */
@FunctionalInterface
public interface VirtualHostDiscovery {
  /**
   * Asks the control plane for the virtual host {@code <routeConfigName>/<host>} (requests for the
   * same name share one subscription). {@code done} runs once, on the control thread, after any
   * new table has been published: true when the virtual host arrived, false when the control plane
   * has none or nothing came within a bounded time.
   */
  void request(String routeConfigName, String host, Consumer<Boolean> done);
}
