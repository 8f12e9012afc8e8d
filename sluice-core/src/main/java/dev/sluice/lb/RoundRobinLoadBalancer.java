package dev.sluice.lb;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.upstream.Host;

/**
 * ROUND_ROBIN. Equal weights: a rotating index starting at a random offset per worker. Unequal
 * weights: earliest deadline first with the {@code k}-th pick of a host due at {@code k / weight},
 * so over every cycle of {@code sum(weights)} picks each host is chosen exactly {@code weight}
 * times; each worker starts a random number of picks into the cycle.
 */
final class RoundRobinLoadBalancer extends HostSourceLoadBalancer<RoundRobinLoadBalancer.State> {

  RoundRobinLoadBalancer(SnapshotSource source, Counter panic, LbConfig config, long seed) {
    super(source, panic, config, seed);
  }

  static final class State {
    long index;
    final long[] picks;
    final EdfScheduler scheduler;

    State(long index, long[] picks, EdfScheduler scheduler) {
      this.index = index;
      this.picks = picks;
      this.scheduler = scheduler;
    }
  }

  @Override
  State newState(HostSource hosts) {
    int n = hosts.size();
    if (hosts.uniformWeights) {
      return new State(random.nextInt(n), new long[0], new EdfScheduler(0));
    }
    State state = new State(0, new long[n], new EdfScheduler(n));
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
    if (hosts.uniformWeights) {
      return hosts.hosts[(int) (state.index++ % hosts.hosts.length)];
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
