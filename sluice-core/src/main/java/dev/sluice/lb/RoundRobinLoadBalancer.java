package dev.sluice.lb;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.upstream.Host;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * ROUND_ROBIN. Equal weights: a rotating index starting at a random offset per worker. Unequal
 * weights: earliest deadline first with the {@code k}-th pick of a host due at {@code k / weight},
 * so over every cycle of {@code sum(weights)} picks each host is chosen exactly {@code weight}
 * times; each worker starts a random number of picks into the cycle. While a host of the list is in
 * its slow start window: earliest deadline first where a picked host is due again
 * {@code 1 / current weight} later, its weight ramped by {@link SlowStart#factor} (Envoy's
 * pick-and-add with the slow start weight).
 */
final class RoundRobinLoadBalancer extends HostSourceLoadBalancer<RoundRobinLoadBalancer.State> {

  RoundRobinLoadBalancer(SnapshotSource source, Counter panic, LbConfig config, long seed,
      LongSupplier nanoClock) {
    super(source, panic, config, seed, nanoClock);
  }

  static final class State {
    long index;
    final long[] picks;
    final EdfScheduler scheduler;
    final boolean uniform;
    /** Slow start: when each host started ramping; null when none ramped as the state was made. */
    final long @Nullable [] rampStarts;

    State(long index, long[] picks, EdfScheduler scheduler, boolean uniform, long @Nullable [] rampStarts) {
      this.index = index;
      this.picks = picks;
      this.scheduler = scheduler;
      this.uniform = uniform;
      this.rampStarts = rampStarts;
    }
  }

  @Override
  State newState(HostSource hosts) {
    int n = hosts.size();
    long[] starts = rampStarts(hosts);
    if (starts != null) {
      State state = new State(0, new long[0], new EdfScheduler(n), false, starts);
      for (int i = 0; i < n; i++) {
        state.scheduler.add(i, 1.0 / rampedWeight(hosts.weights[i], starts[i]));
      }
      return state;
    }
    if (hosts.uniformWeights) {
      return new State(random.nextInt(n), new long[0], new EdfScheduler(0), true, null);
    }
    State state = new State(0, new long[n], new EdfScheduler(n), false, null);
    for (int i = 0; i < n; i++) {
      state.scheduler.add(i, 1.0 / hosts.weights[i]);
    }
    for (int skip = random.nextInt(n); skip > 0; skip--) {
      pickWeighted(hosts, state);
    }
    return state;
  }

  @Override
  Host pick(HostSource hosts, State state) {
    if (state.uniform) {
      return hosts.hosts[(int) (state.index++ % hosts.hosts.length)];
    }
    long[] starts = state.rampStarts;
    if (starts != null) {
      int i = state.scheduler.pick();
      state.scheduler.add(i, state.scheduler.deadline(i) + 1.0 / rampedWeight(hosts.weights[i], starts[i]));
      return hosts.hosts[i];
    }
    return hosts.hosts[pickWeighted(hosts, state)];
  }

  private static int pickWeighted(HostSource hosts, State state) {
    int i = state.scheduler.pick();
    long k = ++state.picks[i];
    // Computed afresh rather than accumulated, so deadlines stay exact rationals' nearest doubles.
    state.scheduler.add(i, (double) (k + 1) / hosts.weights[i]);
    return i;
  }
}
