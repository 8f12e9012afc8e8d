package dev.sluice.extensions.filters.network.tcp_proxy;

import com.google.protobuf.util.Durations;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.ClusterManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * A validated {@code TcpProxy}, shared by every connection of its filter chain.
 *
 * @param clusters the cluster names; one unless {@code weighted_clusters}
 * @param cumulativeWeights running totals of the weights (a linear pick: there are few clusters)
 * @param random returns a value in [0, bound) for the weighted pick (injected by tests)
 */
record TcpProxyConfig(
    String statPrefix,
    List<String> clusters,
    int[] cumulativeWeights,
    long idleTimeoutMillis,
    long maxDownstreamConnectionDurationMillis,
    int maxConnectAttempts,
    AccessLogger accessLogger,
    TcpProxyStats stats,
    ClusterManager clusterManager,
    IntUnaryOperator random) {
  /** Envoy's default {@code idle_timeout}: one hour. */
  static final long DEFAULT_IDLE_TIMEOUT_MILLIS = 3_600_000;

  static TcpProxyConfig from(TcpProxy p, FactoryContext context, IntUnaryOperator random) {
    if (p.getStatPrefix().isEmpty()) {
      throw new ConfigException("stat_prefix", "value length must be at least 1 characters");
    }
    if (p.hasTunnelingConfig()) {
      throw new ConfigException("tunneling_config", "tunneling is not supported");
    }
    if (p.hasOnDemand()) {
      throw new ConfigException("on_demand", "on-demand cluster discovery is not supported");
    }
    List<String> clusters;
    int[] cumulative;
    switch (p.getClusterSpecifierCase()) {
      case CLUSTER -> {
        if (p.getCluster().isEmpty()) {
          throw new ConfigException("cluster", "value length must be at least 1 characters");
        }
        clusters = List.of(p.getCluster());
        cumulative = new int[] {1};
      }
      case WEIGHTED_CLUSTERS -> {
        var list = p.getWeightedClusters().getClustersList();
        if (list.isEmpty()) {
          throw new ConfigException("weighted_clusters.clusters", "at least 1 cluster is required");
        }
        clusters = list.stream().map(TcpProxy.WeightedCluster.ClusterWeight::getName).toList();
        cumulative = new int[list.size()];
        long total = 0;
        for (int i = 0; i < list.size(); i++) {
          String path = "weighted_clusters.clusters[" + i + "]";
          if (list.get(i).getName().isEmpty()) {
            throw new ConfigException(path + ".name", "value length must be at least 1 characters");
          }
          if (list.get(i).getWeight() < 1) {
            throw new ConfigException(path + ".weight", "value must be greater than or equal to 1");
          }
          total += Integer.toUnsignedLong(list.get(i).getWeight());
          if (total > Integer.MAX_VALUE) {
            throw new ConfigException(path + ".weight", "sum of weights is too large");
          }
          cumulative[i] = (int) total;
        }
      }
      default -> throw new ConfigException("cluster_specifier", "one of cluster or weighted_clusters is required");
    }
    long idle = p.hasIdleTimeout() ? Durations.toMillis(p.getIdleTimeout()) : DEFAULT_IDLE_TIMEOUT_MILLIS;
    long maxDuration = p.hasMaxDownstreamConnectionDuration() ? Durations.toMillis(p.getMaxDownstreamConnectionDuration()) : 0;
    if (p.hasMaxConnectAttempts() && p.getMaxConnectAttempts().getValue() < 1) {
      throw new ConfigException("max_connect_attempts", "value must be greater than or equal to 1");
    }
    int attempts = p.hasMaxConnectAttempts() ? p.getMaxConnectAttempts().getValue() : 1;
    AccessLogger logger;
    try {
      logger = context.accessLogger(p.getAccessLogList());
    } catch (ConfigException e) {
      throw e.under("access_log");
    }
    return new TcpProxyConfig(
        p.getStatPrefix(), clusters, cumulative, idle, maxDuration, attempts, logger, new TcpProxyStats(context.stats(), p.getStatPrefix()), context.clusterManager(), random);
  }

  /** The cluster for a new connection: the only one, or a weighted random pick. */
  String pickCluster() {
    if (clusters.size() == 1) {
      return clusters.get(0);
    }
    int r = random.applyAsInt(cumulativeWeights[cumulativeWeights.length - 1]);
    for (int i = 0; i < cumulativeWeights.length; i++) {
      if (r < cumulativeWeights[i]) {
        return clusters.get(i);
      }
    }
    return clusters.get(clusters.size() - 1);
  }
}
