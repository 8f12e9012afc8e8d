package dev.sluice.upstream;

import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ResourceManager;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import org.jspecify.annotations.Nullable;

/**
 * Circuit breakers of the DEFAULT routing priority, shared by all workers. Envoy's defaults: 1024
 * connections, pending requests and requests, 3 retries, unlimited connection pools. The gauges
 * {@code circuit_breakers.default.*_open} read 1 while a limit is reached and, with
 * {@code track_remaining}, {@code remaining_*} how much is left.
 */
final class ResourceManagerImpl implements ResourceManager {
  private final Limit connections;
  private final Limit pending;
  private final Limit requests;
  private final Limit retries;
  private final Limit pools;

  ResourceManagerImpl(CircuitBreakers config, StatsScope clusterScope) {
    CircuitBreakers.Thresholds t = CircuitBreakers.Thresholds.getDefaultInstance();
    for (CircuitBreakers.Thresholds candidate : config.getThresholdsList()) {
      if (candidate.getPriority() == RoutingPriority.DEFAULT) {
        t = candidate;
        break;
      }
    }
    StatsScope scope = clusterScope.scope("circuit_breakers.default.");
    // The limits are uint32: Istio's "unlimited" is 4294967295, which protobuf-java reads as -1.
    boolean track = t.getTrackRemaining();
    connections = new Limit(t.hasMaxConnections() ? Integer.toUnsignedLong(t.getMaxConnections().getValue()) : 1024,
        scope.gauge("cx_open"), track ? scope.gauge("remaining_cx") : null);
    pending = new Limit(t.hasMaxPendingRequests() ? Integer.toUnsignedLong(t.getMaxPendingRequests().getValue()) : 1024,
        scope.gauge("rq_pending_open"), track ? scope.gauge("remaining_pending") : null);
    requests = new Limit(t.hasMaxRequests() ? Integer.toUnsignedLong(t.getMaxRequests().getValue()) : 1024,
        scope.gauge("rq_open"), track ? scope.gauge("remaining_rq") : null);
    retries = new Limit(t.hasMaxRetries() ? Integer.toUnsignedLong(t.getMaxRetries().getValue()) : 3,
        scope.gauge("rq_retry_open"), track ? scope.gauge("remaining_retries") : null);
    pools = new Limit(t.hasMaxConnectionPools() ? Integer.toUnsignedLong(t.getMaxConnectionPools().getValue()) : Long.MAX_VALUE,
        scope.gauge("cx_pool_open"), track ? scope.gauge("remaining_cx_pools") : null);
  }

  @Override
  public ResourceLimit connections() {
    return connections;
  }

  @Override
  public ResourceLimit pendingRequests() {
    return pending;
  }

  @Override
  public ResourceLimit requests() {
    return requests;
  }

  @Override
  public ResourceLimit retries() {
    return retries;
  }

  @Override
  public ResourceLimit connectionPools() {
    return pools;
  }

  private static final class Limit implements ResourceLimit {
    private final long max;
    private final java.util.concurrent.atomic.AtomicLong count = new java.util.concurrent.atomic.AtomicLong();
    private final Gauge open;
    private final @Nullable Gauge remaining;

    Limit(long max, Gauge open, @Nullable Gauge remaining) {
      this.max = max;
      this.open = open;
      this.remaining = remaining;
      open.set(max == 0 ? 1 : 0);
      if (remaining != null) {
        remaining.set(max);
      }
    }

    @Override
    public boolean canCreate() {
      return count.get() < max;
    }

    @Override
    public void inc() {
      publish(count.incrementAndGet());
    }

    @Override
    public void dec() {
      publish(count.decrementAndGet());
    }

    private void publish(long now) {
      open.set(now >= max ? 1 : 0);
      if (remaining != null) {
        remaining.set(Math.max(0, max - now));
      }
    }

    @Override
    public long max() {
      return max;
    }

    @Override
    public long count() {
      return count.get();
    }
  }
}
