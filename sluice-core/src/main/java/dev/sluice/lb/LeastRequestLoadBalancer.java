package dev.sluice.lb;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.upstream.Host;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * LEAST_REQUEST as Envoy. Equal weights: of {@code choice_count} random hosts the one with the
 * fewest active requests ({@code HostStats.rqActive}), or with {@code FULL_SCAN} the least loaded
 * of all (ties broken at random). Unequal weights: earliest deadline first where a host, when
 * picked, is rescheduled with weight {@code weight / (active_requests + 1)^active_request_bias};
 * the same while any host of the list is in its slow start window, with the ramped weight.
 */
final class LeastRequestLoadBalancer extends HostSourceLoadBalancer<LeastRequestLoadBalancer.State> {
  private static final State UNWEIGHTED = new State(new EdfScheduler(0), null);
  private final int choiceCount;
  private final double bias;
  private final boolean fullScan;

  /** The weighted scheduler, with slow start each host's ramp start (null when none ramped). */
  record State(EdfScheduler scheduler, long @Nullable [] rampStarts) {}

  LeastRequestLoadBalancer(SnapshotSource source, Counter panic, LbConfig config, long seed,
      LongSupplier nanoClock) {
    super(source, panic, config, seed, nanoClock);
    this.choiceCount = config.choiceCount();
    this.bias = config.activeRequestBias();
    this.fullScan = config.fullScan();
  }

  @Override
  State newState(HostSource hosts) {
    long[] starts = rampStarts(hosts);
    if (hosts.uniformWeights && starts == null) {
      return UNWEIGHTED;
    }
    State state = new State(new EdfScheduler(hosts.size()), starts);
    for (int i = 0; i < hosts.size(); i++) {
      state.scheduler.add(i, 1 / effectiveWeight(hosts, i, starts));
    }
    return state;
  }

  @Override
  Host pick(HostSource hosts, State state) {
    if (state != UNWEIGHTED) {
      EdfScheduler scheduler = state.scheduler;
      int i = scheduler.pick();
      scheduler.add(i, scheduler.deadline(i) + 1 / effectiveWeight(hosts, i, state.rampStarts));
      return hosts.hosts[i];
    }
    return fullScan ? scanAll(hosts) : bestOfChoices(hosts);
  }

  private Host bestOfChoices(HostSource hosts) {
    Host best = hosts.hosts[random.nextInt(hosts.hosts.length)];
    for (int c = 1; c < choiceCount; c++) {
      Host sampled = hosts.hosts[random.nextInt(hosts.hosts.length)];
      if (sampled.stats().rqActive.get() < best.stats().rqActive.get()) {
        best = sampled;
      }
    }
    return best;
  }

  private Host scanAll(HostSource hosts) {
    Host best = null;
    long bestActive = Long.MAX_VALUE;
    int ties = 0;
    for (Host h : hosts.hosts) {
      long active = h.stats().rqActive.get();
      if (active < bestActive) {
        best = h;
        bestActive = active;
        ties = 1;
      } else if (active == bestActive && random.nextInt(++ties) == 0) {
        best = h; // reservoir sampling keeps each tied host equally likely
      }
    }
    return best;
  }

  private double effectiveWeight(HostSource hosts, int i, long @Nullable [] rampStarts) {
    double active = hosts.hosts[i].stats().rqActive.get() + 1;
    double divisor = bias == 1.0 ? active : bias == 0.0 ? 1.0 : Math.pow(active, bias);
    double weight = rampStarts == null ? hosts.weights[i] : rampedWeight(hosts.weights[i], rampStarts[i]);
    return weight / divisor;
  }
}
