package dev.sluice.api.upstream;

import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * One upstream endpoint of a cluster (Envoy's Host). Immutable but for its health flags, which the
 * control thread (EDS, health checker, outlier detector) flips and workers read.
 */
public interface Host {
  /**
   * The resolved IP address and port of an IP host. A pipe (Unix domain socket) host has no IP
   * address: it answers an unresolved address holding its path and port 0, for code that only
   * prints it; connect with {@link #socketAddress()}.
   */
  InetSocketAddress address();

  /**
   * Where connections go: {@link #address()} for an IP host; for a pipe host (Envoy's
   * {@code address.pipe}) a {@code io.netty.channel.unix.DomainSocketAddress} with its path.
   */
  default SocketAddress socketAddress() {
    return address();
  }

  /**
   * The address as Envoy prints it: {@code 10.0.0.1:9080}, {@code [::1]:80}, the path for a pipe
   * ({@code @name} for an abstract socket).
   */
  String addressString();

  /** The endpoint's hostname (EDS {@code endpoint.hostname}, or the DNS name), or empty. */
  String hostname();

  /** Load-balancing weight, 1..128 as Envoy accepts; 1 by default. */
  int weight();

  int priority();

  Locality locality();

  Metadata metadata();

  /** True when no health flag excludes the host (EDS, active health check, outlier ejection). */
  boolean healthy();

  /** True when EDS says DEGRADED (used only when no healthy host remains). */
  boolean degraded();

  /** The cluster this host belongs to. */
  ClusterInfo cluster();

  /** Envoy's per-host stats ({@code /clusters} shows them). */
  HostStats stats();

  /** Where the data path reports results for outlier detection; {@link OutlierMonitor#NONE} when off. */
  default OutlierMonitor outlierMonitor() {
    return OutlierMonitor.NONE;
  }

  /**
   * Where the data path reports that the upstream answered {@code x-envoy-immediate-health-check-fail}
   * (Envoy's {@code HealthCheckHostMonitor}); {@link HealthCheckMonitor#NONE} without active health
   * checking.
   */
  default HealthCheckMonitor healthCheckMonitor() {
    return HealthCheckMonitor.NONE;
  }

  /** Envoy's {@code HealthCheckHostMonitor}: callable from any thread, never blocks. */
  interface HealthCheckMonitor {
    HealthCheckMonitor NONE = () -> {};

    /** The host asked to be failed at once ({@code x-envoy-immediate-health-check-fail}). */
    void setUnhealthy();
  }
}
