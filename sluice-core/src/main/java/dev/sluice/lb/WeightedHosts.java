package dev.sluice.lb;

import dev.sluice.api.upstream.Host;
import java.util.ArrayList;
import java.util.List;

/**
 * Hosts with weights normalised to sum to 1 (Envoy's normalizeWeights), the input of ring and
 * Maglev construction. With locality weighting, a host's share is its locality's share of the
 * effective locality weights times its share of its locality's host weights.
 */
record WeightedHosts(List<Host> hosts, double[] weights, double min, double max) {

  static WeightedHosts of(HostSource source) {
    List<Host> hosts = new ArrayList<>(source.size());
    double[] w = new double[source.size()];
    long total = 0;
    for (int i = 0; i < source.size(); i++) {
      total += source.weight(i);
    }
    for (int i = 0; i < source.size(); i++) {
      hosts.add(source.host(i));
      w[i] = (double) source.weight(i) / total;
    }
    return withBounds(hosts, w);
  }

  static WeightedHosts ofLocalities(HostSource[] localities, double[] localityWeights) {
    double totalLocality = 0;
    for (int l = 0; l < localities.length; l++) {
      if (localities[l].size() > 0) {
        totalLocality += localityWeights[l];
      }
    }
    List<Host> hosts = new ArrayList<>();
    List<Double> w = new ArrayList<>();
    for (int l = 0; l < localities.length; l++) {
      HostSource s = localities[l];
      if (s.size() == 0 || localityWeights[l] == 0) {
        continue;
      }
      long hostTotal = 0;
      for (int i = 0; i < s.size(); i++) {
        hostTotal += s.weight(i);
      }
      for (int i = 0; i < s.size(); i++) {
        hosts.add(s.host(i));
        w.add(localityWeights[l] / totalLocality * s.weight(i) / hostTotal);
      }
    }
    double[] arr = new double[w.size()];
    for (int i = 0; i < arr.length; i++) {
      arr[i] = w.get(i);
    }
    return withBounds(hosts, arr);
  }

  private static WeightedHosts withBounds(List<Host> hosts, double[] w) {
    double min = 1.0;
    double max = 0.0;
    for (double x : w) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    return new WeightedHosts(hosts, w, min, max);
  }

  static String hashKey(Host host, boolean useHostname) {
    return useHostname && !host.hostname().isEmpty() ? host.hostname() : host.addressString();
  }
}
