package dev.sluice.lb;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancer;
import dev.sluice.api.upstream.LoadBalancerContext;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;

/**
 * RING_HASH and MAGLEV (Envoy's thread-aware balancers): the shared tables come with the snapshot;
 * the request's hash chooses the priority and then the host. Without a hash key the pick is
 * random, as in Envoy.
 */
final class HashLoadBalancer implements LoadBalancer {
  private final SnapshotSource source;
  private final Counter healthyPanic;
  private final SplittableRandom random;

  HashLoadBalancer(SnapshotSource source, Counter healthyPanic, long seed) {
    this.source = source;
    this.healthyPanic = healthyPanic;
    this.random = new SplittableRandom(seed);
  }

  @Override
  public @Nullable Host chooseHost(LoadBalancerContext context) {
    LbSnapshot snapshot = source.current();
    LbSnapshot.HashTables tables = snapshot.hashTables;
    if (tables == null) {
      return null;
    }
    long hash = context.hasHashKey() ? context.hashKey() : random.nextLong();
    int choice = snapshot.prioritySet().choosePriority(hash);
    int priority = choice >> 1;
    HashTable table;
    if (snapshot.prioritySet().panic(priority)) {
      healthyPanic.inc();
      table = tables.all()[priority];
    } else {
      table = (choice & 1) == 1 ? tables.degraded()[priority] : tables.healthy()[priority];
    }
    Host candidate = null;
    int tries = context.hostSelectionRetryCount() + 1;
    for (int attempt = 0; attempt < tries; attempt++) {
      candidate = table.choose(hash, attempt);
      if (candidate == null || !context.shouldSelectAnotherHost(candidate)) {
        return candidate;
      }
    }
    return candidate;
  }
}
