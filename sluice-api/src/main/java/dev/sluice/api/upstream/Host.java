package dev.sluice.api.upstream;

import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.net.InetSocketAddress;

/**
 * One upstream endpoint of a cluster (Envoy's Host). Immutable but for its health flags, which the
 * control thread (EDS, health checker, outlier detector) flips and workers read.
 */
public interface Host {
  /** The resolved socket address connections go to. */
  InetSocketAddress address();

  /** The address as Envoy prints it: {@code 10.0.0.1:9080}, {@code [::1]:80}. */
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
}
