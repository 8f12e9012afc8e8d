package dev.sluice.lb;

import dev.sluice.api.upstream.Host;
import dev.sluice.lb.subset.SubsetSnapshot;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a cluster publishes (one volatile write) when membership or health changes: the priority
 * set and, for hash policies, the rings or Maglev tables built from it, shared by all workers;
 * with slow start, when each ramping host started; with subset balancing, the subsets.
 */
public final class LbSnapshot {
  private final PrioritySet prioritySet;
  final @Nullable HashTables hashTables;
  /** Slow start: the nanoTime each host still in its window became eligible; null when off. */
  final @Nullable Map<Host, Long> slowStartSince;
  private final @Nullable SubsetSnapshot subsets;

  LbSnapshot(PrioritySet prioritySet, @Nullable HashTables hashTables) {
    this(prioritySet, hashTables, null, null);
  }

  LbSnapshot(PrioritySet prioritySet, @Nullable HashTables hashTables,
      @Nullable Map<Host, Long> slowStartSince, @Nullable SubsetSnapshot subsets) {
    this.prioritySet = prioritySet;
    this.hashTables = hashTables;
    this.slowStartSince = slowStartSince;
    this.subsets = subsets;
  }

  public PrioritySet prioritySet() {
    return prioritySet;
  }

  /** The subsets of a cluster with {@code lb_subset_config}, else null. */
  public @Nullable SubsetSnapshot subsets() {
    return subsets;
  }

  /** Per priority: the table over healthy hosts, over degraded hosts, and over all (panic). */
  record HashTables(HashTable[] healthy, HashTable[] degraded, HashTable[] all) {}
}
