package dev.sluice.lb;

import dev.sluice.api.upstream.Host;
import io.envoyproxy.envoy.config.core.v3.Locality;
import java.util.ArrayList;
import java.util.List;

/**
 * The hosts of one priority, split as Envoy's HostSet: all, healthy and degraded, overall and per
 * locality, with each locality's effective weight (its {@code load_balancing_weight} scaled by its
 * availability: {@code min(1, overprovisioning_factor/100 * eligible/total)}).
 */
public final class HostSet {
  private final int priority;
  final HostSource all;
  final HostSource healthy;
  final HostSource degraded;
  final List<Locality> localities;
  final HostSource[] healthyByLocality;
  final HostSource[] degradedByLocality;
  final double[] healthyLocalityWeights;
  final double[] degradedLocalityWeights;

  HostSet(int priority, List<LocalityGroup> groups, int overprovisioningFactor, int[] nextId) {
    this.priority = priority;
    List<Host> allHosts = new ArrayList<>();
    List<Host> healthyHosts = new ArrayList<>();
    List<Host> degradedHosts = new ArrayList<>();
    int n = groups.size();
    localities = new ArrayList<>(n);
    healthyByLocality = new HostSource[n];
    degradedByLocality = new HostSource[n];
    healthyLocalityWeights = new double[n];
    degradedLocalityWeights = new double[n];
    for (int i = 0; i < n; i++) {
      LocalityGroup g = groups.get(i);
      List<Host> h = new ArrayList<>();
      List<Host> d = new ArrayList<>();
      for (Host host : g.hosts()) {
        allHosts.add(host);
        if (host.healthy()) {
          h.add(host);
        } else if (host.degraded()) {
          d.add(host);
        }
      }
      healthyHosts.addAll(h);
      degradedHosts.addAll(d);
      localities.add(g.locality());
      healthyByLocality[i] = new HostSource(nextId[0]++, h);
      degradedByLocality[i] = new HostSource(nextId[0]++, d);
      healthyLocalityWeights[i] =
          effectiveWeight(g.weight(), h.size(), g.hosts().size(), overprovisioningFactor);
      degradedLocalityWeights[i] =
          effectiveWeight(g.weight(), d.size(), g.hosts().size(), overprovisioningFactor);
    }
    all = new HostSource(nextId[0]++, allHosts);
    healthy = new HostSource(nextId[0]++, healthyHosts);
    degraded = new HostSource(nextId[0]++, degradedHosts);
  }

  private static double effectiveWeight(int weight, int eligible, int total, int overprovisioning) {
    if (total == 0 || weight == 0) {
      return 0;
    }
    return weight * Math.min(1.0, overprovisioning / 100.0 * eligible / total);
  }

  public int priority() {
    return priority;
  }

  public HostSource all() {
    return all;
  }

  public HostSource healthy() {
    return healthy;
  }

  public HostSource degraded() {
    return degraded;
  }

  public List<Locality> localities() {
    return localities;
  }
}
