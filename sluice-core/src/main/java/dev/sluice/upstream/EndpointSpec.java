package dev.sluice.upstream;

import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;

/**
 * One validated {@code lb_endpoint} with what its {@code LocalityLbEndpoints} adds.
 *
 * @param address an IP literal, or a DNS name for STRICT_DNS and LOGICAL_DNS clusters
 * @param localityWeight the locality's {@code load_balancing_weight}, 0 when unset
 */
record EndpointSpec(
    int priority,
    Locality locality,
    int localityWeight,
    String address,
    int port,
    String hostname,
    int weight,
    Metadata metadata,
    HealthStatus healthStatus) {

  /** EDS health: UNHEALTHY, DRAINING and TIMEOUT fail the host; DEGRADED degrades it. */
  boolean edsFailed() {
    return healthStatus == HealthStatus.UNHEALTHY || healthStatus == HealthStatus.DRAINING
        || healthStatus == HealthStatus.TIMEOUT;
  }

  boolean edsDegraded() {
    return healthStatus == HealthStatus.DEGRADED;
  }
}
