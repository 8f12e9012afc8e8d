package dev.sluice.lb;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancer;
import dev.sluice.api.upstream.LoadBalancerContext;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The selection steps Envoy's zone-aware balancers share: pick a priority by priority load (healthy
 * first, then degraded), use all its hosts when it is in panic, else pick a locality by effective
 * locality weight when locality-weighted balancing is on, and finally let the subclass pick a host
 * from that list. Per-worker state (round-robin positions, schedulers) lives in arrays indexed by
 * {@link HostSource#id} and is dropped whenever the snapshot changes.
 *
 * @param <S> the subclass's per-source state
 */
abstract class HostSourceLoadBalancer<S> implements LoadBalancer {
  protected final SplittableRandom random;
  private final SnapshotSource source;
  private final Counter healthyPanic;
  private final boolean localityWeighted;
  private final @Nullable SlowStart slowStart;
  private final LongSupplier nanoClock;
  private @Nullable LbSnapshot current;
  private Object[] sourceState = new Object[0];
  private EdfScheduler[] localitySchedulers = new EdfScheduler[0];

  HostSourceLoadBalancer(SnapshotSource source, Counter healthyPanic, LbConfig config, long seed,
      LongSupplier nanoClock) {
    this.source = source;
    this.healthyPanic = healthyPanic;
    this.localityWeighted = config.localityWeighted();
    this.slowStart = config.slowStart();
    this.nanoClock = nanoClock;
    this.random = new SplittableRandom(seed);
  }

  @Override
  public final @Nullable Host chooseHost(LoadBalancerContext context) {
    LbSnapshot snapshot = source.current();
    if (snapshot != current) {
      current = snapshot;
      sourceState = new Object[snapshot.prioritySet().sourceCount()];
      localitySchedulers = new EdfScheduler[snapshot.prioritySet().hostSets().size() * 2];
    }
    PrioritySet set = snapshot.prioritySet();
    Host candidate = null;
    int tries = context.hostSelectionRetryCount() + 1;
    for (int i = 0; i < tries; i++) {
      candidate = chooseOnce(set);
      if (candidate == null || !context.shouldSelectAnotherHost(candidate)) {
        return candidate;
      }
    }
    return candidate;
  }

  private @Nullable Host chooseOnce(PrioritySet set) {
    int choice = set.choosePriority(random.nextLong());
    int priority = choice >> 1;
    boolean degraded = (choice & 1) == 1;
    HostSet hostSet = set.hostSet(priority);
    HostSource hosts;
    if (set.panic(priority)) {
      healthyPanic.inc();
      hosts = hostSet.all;
    } else {
      hosts = degraded ? hostSet.degraded : hostSet.healthy;
      if (localityWeighted) {
        int locality = chooseLocality(hostSet, degraded);
        if (locality >= 0) {
          hosts = degraded ? hostSet.degradedByLocality[locality] : hostSet.healthyByLocality[locality];
        }
      }
    }
    if (hosts.size() == 0) {
      return null;
    }
    @SuppressWarnings("unchecked")
    S state = (S) sourceState[hosts.id];
    if (state == null) {
      state = newState(hosts);
      sourceState[hosts.id] = state;
    }
    return pick(hosts, state);
  }

  /** Envoy's chooseHealthyLocality / chooseDegradedLocality: EDF over effective weights. */
  private int chooseLocality(HostSet hostSet, boolean degraded) {
    int slot = hostSet.priority() * 2 + (degraded ? 1 : 0);
    double[] weights = degraded ? hostSet.degradedLocalityWeights : hostSet.healthyLocalityWeights;
    EdfScheduler scheduler = localitySchedulers[slot];
    if (scheduler == null) {
      scheduler = new EdfScheduler(weights.length);
      for (int i = 0; i < weights.length; i++) {
        if (weights[i] > 0) {
          scheduler.add(i, 1 / weights[i]);
        }
      }
      localitySchedulers[slot] = scheduler;
    }
    if (scheduler.isEmpty()) {
      return -1;
    }
    int locality = scheduler.pick();
    scheduler.add(locality, scheduler.deadline(locality) + 1 / weights[locality]);
    return locality;
  }

  /**
   * Slow start: when each host of {@code hosts} started ramping, {@link #NOT_RAMPING} for hosts past
   * their window; null when no host of the list is ramping now (weights are then static, as Envoy's
   * when no host is in slow start).
   */
  final long @Nullable [] rampStarts(HostSource hosts) {
    LbSnapshot snapshot = current;
    if (slowStart == null || snapshot == null || snapshot.slowStartSince == null
        || snapshot.slowStartSince.isEmpty()) {
      return null;
    }
    long now = nanoClock.getAsLong();
    long[] starts = new long[hosts.size()];
    boolean any = false;
    for (int i = 0; i < starts.length; i++) {
      Long since = snapshot.slowStartSince.get(hosts.hosts[i]);
      if (since != null && slowStart.ramping(since, now)) {
        starts[i] = since;
        any = true;
      } else {
        starts[i] = NOT_RAMPING;
      }
    }
    return any ? starts : null;
  }

  static final long NOT_RAMPING = Long.MIN_VALUE;

  /** A host's weight now: {@code weight} scaled by its slow start factor while it ramps. */
  final double rampedWeight(double weight, long start) {
    SlowStart s = slowStart;
    if (s == null || start == NOT_RAMPING) {
      return weight;
    }
    return weight * s.factor(start, nanoClock.getAsLong());
  }

  /** Fresh per-worker state for a host list of the current snapshot. */
  abstract S newState(HostSource hosts);

  /** Picks from a non-empty list. */
  abstract Host pick(HostSource hosts, S state);
}
