package dev.sluice.lb;

/** Where a worker's balancer reads the current snapshot: one volatile read per pick. */
@FunctionalInterface
public interface SnapshotSource {
  LbSnapshot current();
}
