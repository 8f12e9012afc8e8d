package dev.sluice.lb;

import org.jspecify.annotations.Nullable;

/**
 * What a cluster publishes (one volatile write) when membership or health changes: the priority
 * set and, for hash policies, the rings or Maglev tables built from it, shared by all workers.
 */
public final class LbSnapshot {
  private final PrioritySet prioritySet;
  final @Nullable HashTables hashTables;

  LbSnapshot(PrioritySet prioritySet, @Nullable HashTables hashTables) {
    this.prioritySet = prioritySet;
    this.hashTables = hashTables;
  }

  public PrioritySet prioritySet() {
    return prioritySet;
  }

  /** Per priority: the table over healthy hosts, over degraded hosts, and over all (panic). */
  record HashTables(HashTable[] healthy, HashTable[] degraded, HashTable[] all) {}
}
