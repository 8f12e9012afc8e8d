package dev.sluice.xds;

import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import java.util.HashSet;
import java.util.Set;

/**
 * The clusters a route configuration names: each route's {@code cluster}, its
 * {@code weighted_clusters} and its {@code request_mirror_policies}. A {@code cluster_header} route
 * names no cluster in advance and is not counted.
 */
final class RouteClusters {
  private RouteClusters() {}

  static Set<String> of(RouteConfiguration config) {
    Set<String> names = new HashSet<>();
    for (VirtualHost vh : config.getVirtualHostsList()) {
      for (Route route : vh.getRoutesList()) {
        if (!route.hasRoute()) {
          continue;
        }
        RouteAction action = route.getRoute();
        if (!action.getCluster().isEmpty()) {
          names.add(action.getCluster());
        }
        for (WeightedCluster.ClusterWeight w : action.getWeightedClusters().getClustersList()) {
          names.add(w.getName());
        }
        action.getRequestMirrorPoliciesList().forEach(m -> names.add(m.getCluster()));
      }
    }
    names.remove("");
    return names;
  }
}
