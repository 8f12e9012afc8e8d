package dev.sluice.api;

import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ClusterManager;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;

/** What an extension factory may use while it builds its shared config (control thread). */
public interface FactoryContext {
  /** The root stats scope; factories scope it with their {@code stat_prefix}. */
  StatsScope stats();

  ClusterManager clusterManager();

  /** Looks up other extensions (the HTTP connection manager finds its HTTP filters here). */
  ExtensionRegistry extensions();

  /** Compiles {@code access_log} entries into one logger (a no-op when the list is empty). */
  AccessLogger accessLogger(List<AccessLog> configs);

  /** The {@code --concurrency} worker count. */
  int concurrency();

  Node localNode();

  /** The control thread: timers and work that must not run on a worker. */
  ScheduledExecutorService controlExecutor();

  /** The name of the listener being built, or empty outside listeners. */
  String listenerName();

  /** Envoy's {@code traffic_direction} of the listener: INBOUND, OUTBOUND or UNSPECIFIED. */
  String trafficDirection();

  /**
   * The listener's stats scope, {@code listener.<stat_prefix or address>.} (TLS counts
   * {@code ssl.*} there); the root scope outside listeners.
   */
  default StatsScope listenerScope() {
    return stats();
  }
}
