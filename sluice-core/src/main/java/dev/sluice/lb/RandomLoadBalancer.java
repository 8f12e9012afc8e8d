package dev.sluice.lb;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.upstream.Host;

/** RANDOM: a uniformly random host of the selected list (Envoy ignores host weights here too). */
final class RandomLoadBalancer extends HostSourceLoadBalancer<Boolean> {

  RandomLoadBalancer(SnapshotSource source, Counter panic, LbConfig config, long seed) {
    super(source, panic, config, seed, System::nanoTime);
  }

  @Override
  Boolean newState(HostSource hosts) {
    return Boolean.TRUE;
  }

  @Override
  Host pick(HostSource hosts, Boolean unused) {
    return hosts.hosts[random.nextInt(hosts.hosts.length)];
  }
}
