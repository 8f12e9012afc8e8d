package dev.sluice.lb;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.upstream.LoadBalancer;
import java.util.List;

/**
 * Builds, for one cluster configuration, the shared snapshot state (control thread) and one
 * balancer per worker. The per-pick path reads {@link SnapshotSource#current()} and rebuilds the
 * worker's own state only when the snapshot changed.
 */
public final class LoadBalancerFactory {
  private final LbConfig config;

  public LoadBalancerFactory(LbConfig config) {
    if (config.policy() == LbConfig.Policy.CLUSTER_PROVIDED) {
      throw new IllegalArgumentException("CLUSTER_PROVIDED balancers belong to their cluster");
    }
    this.config = config;
  }

  public LbConfig config() {
    return config;
  }

  /** The snapshot to publish for {@code set}; builds hash tables for RING_HASH and MAGLEV. */
  public LbSnapshot snapshot(PrioritySet set) {
    return switch (config.policy()) {
      case RING_HASH, MAGLEV -> new LbSnapshot(set, buildTables(set));
      default -> new LbSnapshot(set, null);
    };
  }

  /** A snapshot with no hash tables, for clusters that pick hosts themselves. */
  public static LbSnapshot plain(PrioritySet set) {
    return new LbSnapshot(set, null);
  }

  private LbSnapshot.HashTables buildTables(PrioritySet set) {
    List<HostSet> sets = set.hostSets();
    HashTable[] healthy = new HashTable[sets.size()];
    HashTable[] degraded = new HashTable[sets.size()];
    HashTable[] all = new HashTable[sets.size()];
    for (int p = 0; p < sets.size(); p++) {
      HostSet hs = sets.get(p);
      healthy[p] = table(config.localityWeighted()
          ? WeightedHosts.ofLocalities(hs.healthyByLocality, hs.healthyLocalityWeights)
          : WeightedHosts.of(hs.healthy));
      degraded[p] = hs.degraded.size() == 0 ? healthy[p] : table(config.localityWeighted()
          ? WeightedHosts.ofLocalities(hs.degradedByLocality, hs.degradedLocalityWeights)
          : WeightedHosts.of(hs.degraded));
      all[p] = set.panic(p) ? table(WeightedHosts.of(hs.all)) : healthy[p];
    }
    return new LbSnapshot.HashTables(healthy, degraded, all);
  }

  private HashTable table(WeightedHosts hosts) {
    return config.policy() == LbConfig.Policy.RING_HASH
        ? new RingHashTable(hosts, config.minRingSize(), config.maxRingSize(), config.murmurHash(),
            config.useHostnameForHashing())
        : new MaglevTable(hosts, config.maglevTableSize(), config.useHostnameForHashing());
  }

  /**
   * The balancer of one worker.
   *
   * @param seed seeds the worker's random source (start offsets, random and P2C picks)
   * @param healthyPanic {@code cluster.<name>.lb_healthy_panic}
   */
  public LoadBalancer create(long seed, SnapshotSource source, Counter healthyPanic) {
    return switch (config.policy()) {
      case ROUND_ROBIN -> new RoundRobinLoadBalancer(source, healthyPanic, config, seed);
      case LEAST_REQUEST -> new LeastRequestLoadBalancer(source, healthyPanic, config, seed);
      case RANDOM -> new RandomLoadBalancer(source, healthyPanic, config, seed);
      case RING_HASH, MAGLEV -> new HashLoadBalancer(source, healthyPanic, seed);
      case CLUSTER_PROVIDED -> throw new IllegalStateException("unreachable");
    };
  }
}
