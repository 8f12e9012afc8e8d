package dev.sluice.xds;

import com.google.protobuf.Message;
import dev.sluice.api.config.ConfigException;
import dev.sluice.upstream.ClusterManagerImpl;
import dev.sluice.xds.ResourceHandler.ResourceError;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * CDS and EDS into the cluster manager (control thread). Clusters the bootstrap declares are never
 * removed by CDS. Every EDS cluster (static or dynamic) makes its service name
 * ({@code eds_cluster_config.service_name}, else the cluster name) part of the EDS subscription.
 */
final class ClusterApplier {
  private final ClusterManagerImpl clusters;
  private final Map<String, Cluster> staticClusters;
  private final Map<String, Cluster> dynamic = new HashMap<>();
  private final Consumer<Set<String>> edsNames;

  /** @param edsNames receives the EDS service names to subscribe to after each change */
  ClusterApplier(ClusterManagerImpl clusters, List<Cluster> staticClusters, Consumer<Set<String>> edsNames) {
    this.clusters = clusters;
    this.staticClusters = new HashMap<>();
    staticClusters.forEach(c -> this.staticClusters.put(c.getName(), c));
    this.edsNames = edsNames;
  }

  List<ResourceError> applyClusters(ResourceHandler.Update update) {
    List<ResourceError> errors = new ArrayList<>();
    for (Map.Entry<String, Message> e : update.resources().entrySet()) {
      String name = e.getKey();
      if (staticClusters.containsKey(name)) {
        errors.add(new ResourceError(name, "a static cluster of that name exists"));
        continue;
      }
      Cluster cluster = (Cluster) e.getValue();
      try {
        clusters.addOrUpdateCluster(cluster);
        dynamic.put(name, cluster);
      } catch (ConfigException ex) {
        errors.add(new ResourceError(name, ex.getMessage()));
      }
    }
    for (String name : update.removed()) {
      if (dynamic.remove(name) != null) {
        clusters.removeCluster(name);
      }
    }
    edsNames.accept(edsServiceNames());
    return errors;
  }

  List<ResourceError> applyEndpoints(ResourceHandler.Update update) {
    List<ResourceError> errors = new ArrayList<>();
    for (Map.Entry<String, Message> e : update.resources().entrySet()) {
      try {
        clusters.updateLoadAssignment(e.getKey(), (ClusterLoadAssignment) e.getValue());
      } catch (ConfigException ex) {
        errors.add(new ResourceError(e.getKey(), ex.getMessage()));
      }
    }
    // A removed assignment leaves the cluster with its last hosts, as Envoy keeps them until the
    // cluster itself goes away.
    return errors;
  }

  Set<String> edsServiceNames() {
    Set<String> names = new TreeSet<>();
    for (Map<String, Cluster> m : List.of(staticClusters, dynamic)) {
      for (Cluster c : m.values()) {
        if (c.getType() == Cluster.DiscoveryType.EDS) {
          String service = c.getEdsClusterConfig().getServiceName();
          names.add(service.isEmpty() ? c.getName() : service);
        }
      }
    }
    return names;
  }

  /** The dynamic clusters accepted, by name (for {@code /config_dump}). */
  Map<String, Cluster> dynamicClusters() {
    return Map.copyOf(dynamic);
  }
}
