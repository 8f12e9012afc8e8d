package dev.sluice.api.upstream;

import org.jspecify.annotations.Nullable;

/**
 * Picks a host for a request or connection. Envoy gives each worker its own load balancer
 * instance, so an instance is used by one thread only and needs no synchronisation; see
 * {@link Cluster#loadBalancer(int)}.
 */
public interface LoadBalancer {
  /** A host, or null when the cluster has no host to offer (the caller answers 503 UH). */
  @Nullable Host chooseHost(LoadBalancerContext context);
}
