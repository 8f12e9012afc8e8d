package dev.sluice.upstream;

import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * One validated {@code lb_endpoint} with what its {@code LocalityLbEndpoints} adds.
 *
 * @param address an IP literal, or a DNS name for STRICT_DNS and LOGICAL_DNS clusters; the path
 *     for a pipe
 * @param localityWeight the locality's {@code load_balancing_weight}, 0 when unset
 * @param pipe the Unix domain socket of an {@code address.pipe} endpoint, or the internal listener
 *     of an {@code envoy_internal_address} one (STATIC, EDS), or null
 * @param healthCheckConfig the endpoint's {@code health_check_config} (port, hostname, opt-out)
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
    HealthStatus healthStatus,
    @Nullable SocketAddress pipe,
    Endpoint.HealthCheckConfig healthCheckConfig) {

  /** Where a STATIC or EDS host's connections go: its pipe, or its IP literal and port. */
  SocketAddress socketAddress() {
    return pipe != null ? pipe : new InetSocketAddress(Addresses.ip(address, ""), port);
  }

  /** EDS health: UNHEALTHY, DRAINING and TIMEOUT fail the host; DEGRADED degrades it. */
  boolean edsFailed() {
    return healthStatus == HealthStatus.UNHEALTHY || healthStatus == HealthStatus.DRAINING
        || healthStatus == HealthStatus.TIMEOUT;
  }

  boolean edsDegraded() {
    return healthStatus == HealthStatus.DEGRADED;
  }
}
