package dev.sluice.bench;

import dev.sluice.accesslog.AccessLogs;
import dev.sluice.api.ExtensionRegistry;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.config.ServiceLoaderExtensionRegistry;
import dev.sluice.server.ServerFactoryContext;
import dev.sluice.stats.StatsStore;
import dev.sluice.tls.SecretProvider;
import dev.sluice.upstream.ClusterManagerImpl;
import dev.sluice.upstream.pool.ConnectionPools;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The server's factory context as the benchmarks need it: real stats, the installed extensions, an
 * empty cluster manager and one worker's connection pools. {@link #close()} stops its control thread.
 */
final class BenchFactoryContext implements ServerFactoryContext, AutoCloseable {
  private final StatsStore stats = new StatsStore();
  private final ScheduledExecutorService control =
      Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("bench-control").factory());
  private final ClusterManagerImpl clusters = new ClusterManagerImpl(List.of(), stats, 1, control);
  private final ConnectionPools pools = new ConnectionPools(1, clusters, SecretProvider.NONE);
  private final ExtensionRegistry extensions = ServiceLoaderExtensionRegistry.installed(false);

  @Override
  public StatsScope stats() {
    return stats;
  }

  @Override
  public ClusterManager clusterManager() {
    return clusters;
  }

  @Override
  public ExtensionRegistry extensions() {
    return extensions;
  }

  @Override
  public ConnectionPools connectionPools() {
    return pools;
  }

  private final dev.sluice.http.RdsRouteConfigRegistry routeConfigs = new dev.sluice.http.RdsRouteConfigRegistry();

  @Override
  public dev.sluice.http.RdsRouteConfigRegistry routeConfigs() {
    return routeConfigs;
  }

  @Override
  public AccessLogger accessLogger(List<AccessLog> configs) {
    return AccessLogs.compile(configs, this);
  }

  @Override
  public int concurrency() {
    return 1;
  }

  @Override
  public Node localNode() {
    return Node.getDefaultInstance();
  }

  @Override
  public ScheduledExecutorService controlExecutor() {
    return control;
  }

  @Override
  public String listenerName() {
    return "bench";
  }

  @Override
  public String trafficDirection() {
    return "INBOUND";
  }

  @Override
  public void close() throws Exception {
    control.submit(clusters::close).get();
    control.shutdownNow();
  }
}
