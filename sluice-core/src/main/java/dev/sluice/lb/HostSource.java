package dev.sluice.lb;

import dev.sluice.api.upstream.Host;

/**
 * One list of hosts a balancer picks from (Envoy's HostsSource: a priority's healthy, degraded or
 * all hosts, or one locality's), with the weights captured when the snapshot was built. {@link #id}
 * indexes per-worker state, so a worker finds its round-robin position without a map lookup.
 */
public final class HostSource {
  final int id;
  final Host[] hosts;
  final int[] weights;
  final boolean uniformWeights;

  HostSource(int id, java.util.List<Host> list) {
    this.id = id;
    this.hosts = list.toArray(new Host[0]);
    this.weights = new int[hosts.length];
    boolean uniform = true;
    for (int i = 0; i < hosts.length; i++) {
      weights[i] = hosts[i].weight();
      uniform &= weights[i] == weights[0];
    }
    this.uniformWeights = uniform;
  }

  public int size() {
    return hosts.length;
  }

  public Host host(int i) {
    return hosts[i];
  }

  public int weight(int i) {
    return weights[i];
  }
}
