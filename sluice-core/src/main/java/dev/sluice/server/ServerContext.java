package dev.sluice.server;

import dev.sluice.accesslog.AccessLogs;
import dev.sluice.admin.HealthCheckFlag;
import dev.sluice.api.ExtensionRegistry;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.http.RdsRouteConfigRegistry;
import dev.sluice.upstream.pool.ConnectionPools;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;

/**
 * The factory context of one server: the same shared objects for every extension, plus the name
 * and traffic direction of the listener being built ({@link #forListener}).
 */
record ServerContext(
    StatsScope stats,
    ClusterManager clusterManager,
    ExtensionRegistry extensions,
    ConnectionPools connectionPools,
    RdsRouteConfigRegistry routeConfigs,
    int concurrency,
    Node localNode,
    ScheduledExecutorService controlExecutor,
    String listenerName,
    String trafficDirection,
    StatsScope listenerScope,
    HealthCheckFlag health,
    BooleanSupplier healthCheckDrainClose) implements ServerFactoryContext {

  /** The context outside any listener (clusters, bootstrap-level access logs). */
  static ServerContext root(StatsScope stats, ClusterManager clusterManager,
      ExtensionRegistry extensions, ConnectionPools pools, RdsRouteConfigRegistry routeConfigs,
      int concurrency, Node node, ScheduledExecutorService control, HealthCheckFlag health) {
    return new ServerContext(stats, clusterManager, extensions, pools, routeConfigs, concurrency, node, control,
        "", TrafficDirection.UNSPECIFIED.name(), stats, health, health::failed);
  }

  /** The context of {@code listener}'s extensions: names it and carries its direction. */
  ServerContext forListener(Listener listener) {
    TrafficDirection direction = listener.getTrafficDirection() == TrafficDirection.UNRECOGNIZED
        ? TrafficDirection.UNSPECIFIED : listener.getTrafficDirection();
    // Envoy's DrainManagerImpl: a failed health check drain-closes only DEFAULT drain_type listeners.
    BooleanSupplier drainClose = listener.getDrainType() == Listener.DrainType.MODIFY_ONLY ? () -> false : health::failed;
    return new ServerContext(stats, clusterManager, extensions, connectionPools, routeConfigs, concurrency,
        localNode, controlExecutor, listener.getName(), direction.name(), listenerScope(stats, listener),
        health, drainClose);
  }

  /** {@code listener.<stat_prefix or first address>.}, as Envoy names a listener's scope. */
  private static StatsScope listenerScope(StatsScope stats, Listener listener) {
    var sa = listener.getAddress().getSocketAddress();
    java.net.InetSocketAddress address = new java.net.InetSocketAddress(
        sa.getAddress().isEmpty() ? "0.0.0.0" : sa.getAddress(), sa.getPortValue());
    return stats.scope("listener." + dev.sluice.listener.ActiveListener.statPrefix(listener, address) + ".");
  }

  @Override
  public AccessLogger accessLogger(List<AccessLog> configs) {
    return AccessLogs.compile(configs, this);
  }
}
