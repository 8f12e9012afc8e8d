package dev.sluice.api.upstream;

import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/** What a request tells the load balancer (Envoy's LoadBalancerContext). All methods optional. */
public interface LoadBalancerContext {
  LoadBalancerContext NONE = new LoadBalancerContext() {};

  /** True when {@link #hashKey()} is meaningful (the route has a hash policy that produced one). */
  default boolean hasHashKey() {
    return false;
  }

  /** The hash for RING_HASH and MAGLEV, from the route's {@code hash_policy}. */
  default long hashKey() {
    return 0;
  }

  /** For ORIGINAL_DST clusters: where the downstream connection was originally headed. */
  default @Nullable InetSocketAddress originalDestination() {
    return null;
  }

  /** The downstream request headers, or null for TCP (ORIGINAL_DST {@code use_http_header}). */
  default @Nullable Http2Headers downstreamHeaders() {
    return null;
  }

  /** The route's {@code metadata_match} under {@code envoy.lb}, for subset load balancing. */
  default @Nullable Metadata metadataMatchCriteria() {
    return null;
  }

  /** Retry host predicates: true asks the balancer to try another host (bounded by the count). */
  default boolean shouldSelectAnotherHost(Host host) {
    return false;
  }

  /** How many times the balancer may re-pick when {@link #shouldSelectAnotherHost} says so. */
  default int hostSelectionRetryCount() {
    return 0;
  }
}
