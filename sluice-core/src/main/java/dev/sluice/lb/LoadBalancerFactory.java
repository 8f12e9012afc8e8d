package dev.sluice.lb;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancer;
import dev.sluice.lb.subset.SubsetConfig;
import dev.sluice.lb.subset.SubsetLoadBalancer;
import dev.sluice.lb.subset.SubsetSnapshot;
import dev.sluice.lb.subset.SubsetStats;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Builds, for one cluster configuration, the shared snapshot state (control thread) and one
 * balancer per worker. The per-pick path reads {@link SnapshotSource#current()} and rebuilds the
 * worker's own state only when the snapshot changed. {@link #snapshot} is called on the control
 * thread only, in membership order: it remembers when each host became eligible (slow start) and
 * the previous subsets (subset stats).
 */
public final class LoadBalancerFactory {
  private final LbConfig config;
  private final LongSupplier nanoClock;
  private final @Nullable SubsetStats subsetStats;
  /** Slow start: hosts healthy in the last snapshot, and when each still ramping became so. */
  private Set<Host> eligible = Set.of();
  private Map<Host, Long> since = Map.of();
  private @Nullable SubsetSnapshot lastSubsets;

  public LoadBalancerFactory(LbConfig config) {
    this(config, null, System::nanoTime);
  }

  /**
   * @param clusterScope {@code cluster.<name>.}, for the subset stats (null: not counted)
   * @param nanoClock the monotonic clock slow start measures with
   */
  public LoadBalancerFactory(LbConfig config, @Nullable StatsScope clusterScope, LongSupplier nanoClock) {
    if (config.policy() == LbConfig.Policy.CLUSTER_PROVIDED) {
      throw new IllegalArgumentException("CLUSTER_PROVIDED balancers belong to their cluster");
    }
    this.config = config;
    this.nanoClock = nanoClock;
    this.subsetStats = config.subset() == null ? null
        : new SubsetStats(clusterScope != null ? clusterScope : new dev.sluice.stats.StatsStore());
  }

  public LbConfig config() {
    return config;
  }

  /**
   * The snapshot to publish for {@code set}; builds hash tables for RING_HASH and MAGLEV, the slow
   * start times and the subsets. Control thread.
   */
  public LbSnapshot snapshot(PrioritySet set) {
    Map<Host, Long> ramping = config.slowStart() == null ? null : slowStart(set);
    LbSnapshot whole = balancing(set, ramping);
    SubsetConfig subset = config.subset();
    if (subset == null) {
      return whole;
    }
    SubsetSnapshot subsets = SubsetSnapshot.build(subset, set, whole, s -> balancing(s, ramping),
        lastSubsets, subsetStats);
    lastSubsets = subsets;
    return new LbSnapshot(set, whole.hashTables, ramping, subsets);
  }

  private LbSnapshot balancing(PrioritySet set, @Nullable Map<Host, Long> ramping) {
    return switch (config.policy()) {
      case RING_HASH, MAGLEV -> new LbSnapshot(set, buildTables(set), ramping, null);
      default -> new LbSnapshot(set, null, ramping, null);
    };
  }

  /**
   * Envoy's slow start clock: a host ramps from when it joined the cluster, or from when it became
   * healthy again (Envoy: its last passed health check); only hosts still within the window are
   * kept.
   */
  private Map<Host, Long> slowStart(PrioritySet set) {
    SlowStart slow = java.util.Objects.requireNonNull(config.slowStart());
    long now = nanoClock.getAsLong();
    Set<Host> nextEligible = Collections.newSetFromMap(new IdentityHashMap<>());
    Map<Host, Long> nextSince = new IdentityHashMap<>();
    for (List<Host> hosts : set.hostsByPriority()) {
      for (Host h : hosts) {
        if (!h.healthy()) {
          continue;
        }
        nextEligible.add(h);
        Long start = eligible.contains(h) ? since.get(h) : Long.valueOf(now);
        if (start != null && slow.ramping(start, now)) {
          nextSince.put(h, start);
        }
      }
    }
    eligible = nextEligible;
    since = nextSince;
    return Collections.unmodifiableMap(nextSince);
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
    SubsetStats stats = subsetStats;
    if (stats != null) {
      return new SubsetLoadBalancer(source, (s, src) -> policy(s, src, healthyPanic), stats, seed);
    }
    return policy(seed, source, healthyPanic);
  }

  private LoadBalancer policy(long seed, SnapshotSource source, Counter healthyPanic) {
    return switch (config.policy()) {
      case ROUND_ROBIN -> new RoundRobinLoadBalancer(source, healthyPanic, config, seed, nanoClock);
      case LEAST_REQUEST -> new LeastRequestLoadBalancer(source, healthyPanic, config, seed, nanoClock);
      case RANDOM -> new RandomLoadBalancer(source, healthyPanic, config, seed);
      case RING_HASH, MAGLEV -> new HashLoadBalancer(source, healthyPanic, seed);
      case CLUSTER_PROVIDED -> throw new IllegalStateException("unreachable");
    };
  }
}
