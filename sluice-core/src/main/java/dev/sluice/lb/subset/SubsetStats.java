package dev.sluice.lb.subset;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;

/** Envoy's subset balancer stats, under {@code cluster.<name>.}. */
public final class SubsetStats {
  public final Gauge active;
  public final Counter created;
  public final Counter removed;
  public final Counter selected;
  public final Counter fallback;
  public final Counter fallbackPanic;
  public final Gauge singleHostPerSubsetDuplicate;

  public SubsetStats(StatsScope cluster) {
    active = cluster.gauge("lb_subsets_active");
    created = cluster.counter("lb_subsets_created");
    removed = cluster.counter("lb_subsets_removed");
    selected = cluster.counter("lb_subsets_selected");
    fallback = cluster.counter("lb_subsets_fallback");
    fallbackPanic = cluster.counter("lb_subsets_fallback_panic");
    singleHostPerSubsetDuplicate = cluster.gauge("lb_subsets_single_host_per_subset_duplicate");
  }
}
