package dev.sluice.xds;

import com.google.protobuf.Message;
import dev.sluice.api.config.ConfigException;
import dev.sluice.upstream.ClusterManagerImpl;
import dev.sluice.xds.ResourceHandler.ResourceError;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CDS and EDS into the cluster manager (control thread). Clusters the bootstrap declares are never
 * removed by CDS. Every EDS cluster (static or dynamic) makes its service name
 * ({@code eds_cluster_config.service_name}, else the cluster name) part of the EDS subscription.
 *
 * <p>A cluster CDS removes while a published route configuration still names it is removed only
 * once no route does (the RDS update moving the route away usually follows in the same push), or
 * after {@link ListenerApplier#DEFAULT_INITIAL_FETCH_TIMEOUT}: removed at once, requests routed
 * to it in between would fail with 503 (no cluster).
 */
final class ClusterApplier {
  private static final Logger log = LoggerFactory.getLogger("sluice.xds");
  private final ClusterManagerImpl clusters;
  private final Map<String, Cluster> staticClusters;
  private final Map<String, Cluster> dynamic = new HashMap<>();
  private final Consumer<Map<ConfigSource, Set<String>>> edsNames;
  private final ScheduledExecutorService control;
  /** The warming EDS clusters with an initial-fetch timer running. */
  private final Map<String, ScheduledFuture<?>> fetchTimers = new HashMap<>();

  /** The route configurations serving now, whose clusters a removal waits for. */
  private final Supplier<Collection<RouteConfiguration>> publishedRoutes;
  /** Removed clusters still named by a route, with the timer that removes them regardless. */
  private final Map<String, ScheduledFuture<?>> pendingRemovals = new HashMap<>();
  /**
   * New or changed clusters held back until the SDS secrets their TLS contexts name arrive (or time
   * out), as Envoy warms them; the previous version, if any, serves meanwhile.
   */
  private final Map<String, SecretWait> secretWaits = new HashMap<>();
  private @Nullable SdsSecretProvider secrets;
  /** Runs after a cluster held for its secrets was added. */
  private final Runnable onSecretWarmed;

  /** @param edsNames receives the EDS service names to subscribe to, by source, after each change */
  ClusterApplier(ClusterManagerImpl clusters, List<Cluster> staticClusters, Consumer<Map<ConfigSource, Set<String>>> edsNames,
      ScheduledExecutorService control, Supplier<Collection<RouteConfiguration>> publishedRoutes,
      Runnable onSecretWarmed) {
    this.onSecretWarmed = onSecretWarmed;
    this.clusters = clusters;
    this.publishedRoutes = publishedRoutes;
    this.control = control;
    this.staticClusters = new HashMap<>();
    staticClusters.forEach(c -> this.staticClusters.put(c.getName(), c));
    this.edsNames = edsNames;
  }

  /** One CDS response: a single batch in the cluster manager, so the workers see one new cluster map. */
  List<ResourceError> applyClusters(ResourceHandler.Update update) {
    List<ResourceError> errors = new ArrayList<>();
    clusters.batch(() -> applyClusters(update, errors));
    edsNames.accept(edsServiceNames());
    startFetchTimers();
    return errors;
  }

  private void applyClusters(ResourceHandler.Update update, List<ResourceError> errors) {
    for (Map.Entry<String, Message> e : update.resources().entrySet()) {
      String name = e.getKey();
      if (staticClusters.containsKey(name)) {
        errors.add(new ResourceError(name, "a static cluster of that name exists"));
        continue;
      }
      Cluster cluster = (Cluster) e.getValue();
      if (cluster.getType() == Cluster.DiscoveryType.EDS) {
        try {
          XdsSources.key(cluster.getEdsClusterConfig().getEdsConfig(), "eds_cluster_config.eds_config");
        } catch (ConfigException ex) {
          errors.add(new ResourceError(name, ex.getMessage()));
          continue;
        }
      }
      cancelRemoval(name);
      // The new wait subscribes before the old one lets go, so a secret both need is not dropped.
      SecretWait wait = SecretWait.start(secrets, SdsReferences.of(cluster), () -> secretsReady(name));
      if (wait != null) {
        // Built only once its secrets arrive: checked now, so a bad cluster is NACKed, not ACKed.
        try {
          clusters.validate(cluster);
        } catch (ConfigException ex) {
          wait.close();
          errors.add(new ResourceError(name, ex.getMessage()));
          continue;
        }
      }
      cancelSecretWait(name);
      if (wait != null) {
        log.debug("cluster {} warming for secrets {}", name, wait.missing());
        secretWaits.put(name, wait);
        dynamic.put(name, cluster);
        continue;
      }
      try {
        clusters.addOrUpdateCluster(cluster);
        dynamic.put(name, cluster);
      } catch (ConfigException ex) {
        errors.add(new ResourceError(name, ex.getMessage()));
      }
    }
    Set<String> referenced = update.removed().isEmpty() ? Set.of() : referencedClusters();
    for (String name : update.removed()) {
      if (!dynamic.containsKey(name) || pendingRemovals.containsKey(name)) {
        continue;
      }
      if (referenced.contains(name) && clusters.get(name) != null) {
        pendingRemovals.put(name, control.schedule(() -> {
          pendingRemovals.remove(name);
          remove(name);
        }, ListenerApplier.DEFAULT_INITIAL_FETCH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
      } else {
        remove(name);
      }
    }
  }

  /** Clusters naming SDS secrets warm until those arrive (or time out); call before the first CDS response. */
  void warmOnSecrets(SdsSecretProvider provider) {
    this.secrets = provider;
  }

  /** True while a cluster with no version serving waits for its secrets. */
  boolean warmingOnSecretsWithoutActive(String name) {
    return secretWaits.containsKey(name) && clusters.get(name) == null;
  }

  /** True while any cluster waits for its secrets (the server's init waits for them). */
  boolean warmingOnSecrets() {
    return !secretWaits.isEmpty();
  }

  /** The secrets of cluster {@code name} are all there (or timed out): it is added now. */
  private void secretsReady(String name) {
    SecretWait wait = secretWaits.remove(name);
    Cluster cluster = dynamic.get(name);
    if (wait == null || cluster == null) {
      return;
    }
    try {
      clusters.addOrUpdateCluster(cluster);
    } catch (ConfigException ex) {
      // Accepted (ACKed) while it waited; as a cluster failing to build later, it is logged.
      log.warn("cluster {} could not be added once its secrets arrived: {}", name, ex.getMessage());
      dynamic.remove(name);
      edsNames.accept(edsServiceNames());
    }
    // After the add: the cluster's TLS contexts hold their own subscriptions now.
    wait.close();
    startFetchTimers();
    onSecretWarmed.run();
  }

  private void cancelSecretWait(String name) {
    SecretWait wait = secretWaits.remove(name);
    if (wait != null) {
      wait.close();
    }
  }

  /** After route configurations changed: removes the pending clusters no route names any more. */
  void routesChanged() {
    if (pendingRemovals.isEmpty()) {
      return;
    }
    Set<String> referenced = referencedClusters();
    clusters.batch(() -> {
      for (String name : List.copyOf(pendingRemovals.keySet())) {
        if (!referenced.contains(name)) {
          cancelRemoval(name);
          remove(name);
        }
      }
    });
    edsNames.accept(edsServiceNames());
  }

  private Set<String> referencedClusters() {
    Set<String> names = new HashSet<>();
    publishedRoutes.get().forEach(r -> names.addAll(RouteClusters.of(r)));
    return names;
  }

  private void remove(String name) {
    cancelSecretWait(name);
    if (dynamic.remove(name) != null) {
      clusters.removeCluster(name);
    }
  }

  private void cancelRemoval(String name) {
    ScheduledFuture<?> timer = pendingRemovals.remove(name);
    if (timer != null) {
      timer.cancel(false);
    }
  }

  /**
   * Starts the {@code eds_config.initial_fetch_timeout} (Envoy's 15 s when unset, 0 = none) of each
   * EDS cluster warming without a timer: when it passes with no assignment, the cluster is activated
   * empty and {@code cluster.<name>.init_fetch_timeout} counts it, as Envoy does.
   */
  void startFetchTimers() {
    fetchTimers.values().removeIf(java.util.concurrent.Future::isDone);
    for (dev.sluice.api.upstream.Cluster c : clusters.warmingClusters()) {
      Cluster config = ((dev.sluice.upstream.ClusterInfoImpl) c.info()).config();
      String name = config.getName();
      if (config.getType() != Cluster.DiscoveryType.EDS || fetchTimers.containsKey(name)) {
        continue;
      }
      long ms = XdsChannels.initialFetchTimeoutMs(config.getEdsClusterConfig().getEdsConfig());
      if (ms > 0) {
        fetchTimers.put(name, control.schedule(() -> {
          fetchTimers.remove(name);
          dev.sluice.api.upstream.Cluster timedOut = clusters.warmingClusters().stream()
              .filter(w -> w.info().name().equals(name)).findFirst().orElse(null);
          if (timedOut != null && clusters.activateWithoutEndpoints(name)) {
            log.warn("cluster {}: no endpoints within initial_fetch_timeout; activated without hosts", name);
            timedOut.info().statsScope().counter("init_fetch_timeout").inc();
          }
        }, ms, TimeUnit.MILLISECONDS));
      }
    }
  }

  List<ResourceError> applyEndpoints(ResourceHandler.Update update) {
    List<ResourceError> errors = new ArrayList<>();
    Map<String, ClusterLoadAssignment> assignments = new LinkedHashMap<>();
    update.resources().forEach((name, m) -> assignments.put(name, (ClusterLoadAssignment) m));
    Map<String, ConfigException> rejected = clusters.updateLoadAssignments(assignments);
    for (String name : assignments.keySet()) {
      ConfigException ex = rejected.get(name);
      if (ex == null) {
        long version = SubscriptionStats.hash(update.version());
        clusters.edsClustersUsing(name).forEach(c -> c.info().stats().version.set(version));
      } else {
        errors.add(new ResourceError(name, ex.getMessage()));
        clusters.edsClustersUsing(name).forEach(c -> {
          c.info().stats().updateAttempt.inc();
          c.info().statsScope().counter("update_rejected").inc();
        });
      }
    }
    // A removed assignment (delta removed_resources) leaves the cluster with its last hosts and
    // counts update_empty, as Envoy's EDS cluster does for an update without its assignment; in
    // state of the world an assignment left out of a response is simply not updated.
    for (String name : update.removed()) {
      clusters.edsClustersUsing(name).forEach(c -> c.info().stats().updateEmpty.inc());
    }
    return errors;
  }

  /** The EDS service names to subscribe to, by the source ({@link XdsSources#key}) of their {@code eds_config}. */
  Map<ConfigSource, Set<String>> edsServiceNames() {
    Map<ConfigSource, Set<String>> names = new HashMap<>();
    for (Map<String, Cluster> m : List.of(staticClusters, dynamic)) {
      for (Cluster c : m.values()) {
        // A cluster kept only until routes leave it serves its last endpoints: the control plane
        // removed it, so its assignment is no longer asked for (a cache may wait for it otherwise).
        if (c.getType() == Cluster.DiscoveryType.EDS && !pendingRemovals.containsKey(c.getName())) {
          String service = c.getEdsClusterConfig().getServiceName();
          names.computeIfAbsent(XdsSources.key(c.getEdsClusterConfig().getEdsConfig(), "eds_cluster_config.eds_config"),
              k -> new TreeSet<>()).add(service.isEmpty() ? c.getName() : service);
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
