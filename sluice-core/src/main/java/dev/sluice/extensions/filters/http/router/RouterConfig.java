package dev.sluice.extensions.filters.http.router;

import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.http.HttpConnectionManagerStats;
import dev.sluice.upstream.pool.ConnectionPools;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;

/**
 * The router's shared config (one per connection manager): where clusters and pools are, and the
 * Envoy header switches of {@code envoy.extensions.filters.http.router.v3.Router}.
 */
record RouterConfig(
    ClusterManager clusters,
    ConnectionPools pools,
    HttpConnectionManagerStats hcmStats,
    boolean suppressEnvoyHeaders,
    boolean respectExpectedRqTimeout) {

  static RouterConfig of(Router proto, ClusterManager clusters, ConnectionPools pools, HttpConnectionManagerStats hcmStats) {
    return new RouterConfig(clusters, pools, hcmStats, proto.getSuppressEnvoyHeaders(), proto.getRespectExpectedRqTimeout());
  }
}
