package dev.sluice.upstream;

import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ResourceManager;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Circuit breakers of one routing priority (DEFAULT or HIGH), shared by all workers. Envoy's
 * defaults: 1024 connections, pending requests and requests, 3 retries, unlimited connection
 * pools. With {@code retry_budget}, the retry limit follows load instead of {@code max_retries}:
 * {@code max(min_retry_concurrency, budget_percent * (active + pending requests))}, 20 % and 3
 * unless set. The gauges {@code circuit_breakers.<default|high>.*_open} read 1 while a limit is
 * reached and, with {@code track_remaining}, {@code remaining_*} how much is left.
 */
final class ResourceManagerImpl implements ResourceManager {
  private static final long DEFAULT_MAX = 1024;
  private static final long DEFAULT_MAX_RETRIES = 3;

  private final Limit connections;
  private final Limit pending;
  private final Limit requests;
  private final Limit retries;
  private final Limit pools;

  ResourceManagerImpl(CircuitBreakers config, RoutingPriority priority, StatsScope clusterScope) {
    CircuitBreakers.Thresholds t = CircuitBreakers.Thresholds.newBuilder().setPriority(priority).build();
    for (CircuitBreakers.Thresholds candidate : config.getThresholdsList()) {
      if (candidate.getPriority() == priority) {
        t = candidate;
        break;
      }
    }
    StatsScope scope = clusterScope.scope(
        "circuit_breakers." + (priority == RoutingPriority.HIGH ? "high" : "default") + ".");
    boolean track = t.getTrackRemaining();
    connections = new Limit(t.hasMaxConnections() ? Integer.toUnsignedLong(t.getMaxConnections().getValue()) : DEFAULT_MAX,
        scope.gauge("cx_open"), track ? scope.gauge("remaining_cx") : null);
    pending = new Limit(t.hasMaxPendingRequests() ? Integer.toUnsignedLong(t.getMaxPendingRequests().getValue()) : DEFAULT_MAX,
        scope.gauge("rq_pending_open"), track ? scope.gauge("remaining_pending") : null);
    requests = new Limit(t.hasMaxRequests() ? Integer.toUnsignedLong(t.getMaxRequests().getValue()) : DEFAULT_MAX,
        scope.gauge("rq_open"), track ? scope.gauge("remaining_rq") : null);
    Gauge retryOpen = scope.gauge("rq_retry_open");
    Gauge retryRemaining = track ? scope.gauge("remaining_retries") : null;
    if (t.hasRetryBudget()) {
      CircuitBreakers.Thresholds.RetryBudget budget = t.getRetryBudget();
      double percent = budget.hasBudgetPercent() ? budget.getBudgetPercent().getValue() : 20.0;
      long min = budget.hasMinRetryConcurrency()
          ? Integer.toUnsignedLong(budget.getMinRetryConcurrency().getValue()) : 3;
      retries = new BudgetLimit(percent / 100.0, min, requests, pending, retryOpen, retryRemaining);
    } else {
      retries = new Limit(t.hasMaxRetries() ? Integer.toUnsignedLong(t.getMaxRetries().getValue()) : DEFAULT_MAX_RETRIES,
          retryOpen, retryRemaining);
    }
    pools = new Limit(t.hasMaxConnectionPools()
        ? Integer.toUnsignedLong(t.getMaxConnectionPools().getValue()) : Long.MAX_VALUE,
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

  /** A fixed limit; the open/remaining gauges follow each change of the count. */
  private static class Limit implements ResourceLimit {
    private final long max;
    final AtomicLong count = new AtomicLong();
    private final Gauge open;
    private final @Nullable Gauge remaining;

    Limit(long max, Gauge open, @Nullable Gauge remaining) {
      this.max = max;
      this.open = open;
      this.remaining = remaining;
      publish(0);
    }

    @Override
    public boolean canCreate() {
      return count.get() < max();
    }

    @Override
    public void inc() {
      publish(count.incrementAndGet());
    }

    @Override
    public void dec() {
      publish(count.decrementAndGet());
    }

    final void publish(long now) {
      long limit = max();
      open.set(now >= limit ? 1 : 0);
      if (remaining != null) {
        remaining.set(Math.max(0, limit - now));
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

  /** Envoy's retry budget: the retry limit is a share of the requests active and pending now. */
  private static final class BudgetLimit extends Limit {
    private final double share;
    private final long minConcurrency;
    private final Limit requests;
    private final Limit pending;

    BudgetLimit(double share, long minConcurrency, Limit requests, Limit pending, Gauge open,
        @Nullable Gauge remaining) {
      super(0, open, remaining);
      this.share = share;
      this.minConcurrency = minConcurrency;
      this.requests = requests;
      this.pending = pending;
      publish(0);
    }

    @Override
    public long max() {
      // Also read by the super constructor, before the fields are set; the publish at the end of
      // this constructor puts the gauges right.
      Limit rq = requests;
      if (rq == null) {
        return 0;
      }
      long load = rq.count.get() + pending.count.get();
      return Math.max(minConcurrency, (long) (share * load));
    }
  }
}
