package dev.sluice.upstream;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.api.upstream.Host;
import dev.sluice.lb.LbConfig;
import dev.sluice.lb.LbConfigParser;
import dev.sluice.upstream.health.HealthCheckConfig;
import dev.sluice.upstream.health.HealthCheckLoop;
import dev.sluice.upstream.health.HealthChecker;
import dev.sluice.upstream.outlier.OutlierDetectionConfig;
import dev.sluice.upstream.outlier.OutlierDetector;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * The server's clusters. Workers read one immutable map through a volatile field; every change
 * (CDS, EDS, DNS answers, ORIGINAL_DST hosts) happens on the control thread, so the mutating
 * methods here must be called there. As Envoy, a cluster that needs discovery (EDS, DNS) warms
 * before it becomes active; while an updated version warms, the previous one keeps serving.
 * Listeners hear of changes on the control thread after the new state is published.
 */
public final class ClusterManagerImpl implements ClusterManager, AutoCloseable {
  private final ClusterContext ctx;
  private final @Nullable ExecutorService ownedResolverExecutor;
  private final List<ClusterUpdateListener> listeners = new CopyOnWriteArrayList<>();
  private volatile Map<String, ClusterImpl> active = Map.of();
  private final Map<String, ClusterImpl> warmingClusters = new LinkedHashMap<>();
  /** The last assignment per EDS service name, for EDS clusters added or updated later. */
  private final Map<String, LoadAssignment> assignments = new HashMap<>();
  /**
   * The EDS clusters (active or warming) by service name, so an assignment reaches its users
   * without a pass over every cluster: an EDS update costs in proportion to the clusters it
   * touches. May hold stale names (a cluster whose new version uses another service name), which
   * {@link #edsClusters} drops as it meets them.
   */
  private final Map<String, Set<String>> edsNamesByService = new HashMap<>();
  /** How a removal waits for the workers (see {@link #removeAfter}); at once by default. */
  private java.util.function.Consumer<Runnable> removalGrace = Runnable::run;
  /** Clusters removed but still in the workers' map until their grace period ends. */
  private final Map<String, ClusterImpl> removing = new HashMap<>();
  /** Nesting depth of {@link #batch}; changes publish when the outermost batch ends. */
  private int batchDepth;
  /** During a batch: the next active map (a copy made at the first change), else null. */
  private @Nullable Map<String, ClusterImpl> next;
  /** During a batch: what listeners hear once the next map is published, in order. */
  private final List<Runnable> afterPublish = new ArrayList<>();
  private final CompletableFuture<Void> initialized = new CompletableFuture<>();
  private final Set<String> initialNames;
  private final Counter clusterAdded;
  private final Counter clusterModified;
  private final Counter clusterRemoved;
  private final Gauge activeClusters;
  private final Gauge warmingGauge;
  /** Carries every health check connection, off the workers. */
  private final HealthCheckLoop healthCheckLoop = new HealthCheckLoop();

  /** With the JDK resolver on a small dedicated executor and a random seed. */
  public ClusterManagerImpl(List<io.envoyproxy.envoy.config.cluster.v3.Cluster> clusters,
      StatsScope root, int concurrency, ScheduledExecutorService control) {
    this(clusters, root, concurrency, control, HostnameResolver.JDK, null, System.nanoTime());
  }

  /**
   * @param resolverExecutor where blocking DNS lookups run; null for a dedicated two-thread pool
   *     that {@link #close()} shuts down
   * @param seed seeds every balancer's random source (tests pass a fixed one)
   * @throws ConfigException naming {@code clusters[i].<field>} for the first invalid cluster
   */
  public ClusterManagerImpl(List<io.envoyproxy.envoy.config.cluster.v3.Cluster> clusters,
      StatsScope root, int concurrency, ScheduledExecutorService control, HostnameResolver resolver,
      @Nullable Executor resolverExecutor, long seed) {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1");
    }
    StatsScope scope = root.scope("cluster_manager.");
    clusterAdded = scope.counter("cluster_added");
    clusterModified = scope.counter("cluster_modified");
    clusterRemoved = scope.counter("cluster_removed");
    activeClusters = scope.gauge("active_clusters");
    warmingGauge = scope.gauge("warming_clusters");
    ownedResolverExecutor = resolverExecutor == null ? Executors.newFixedThreadPool(2,
        Thread.ofPlatform().daemon().name("sluice-dns-", 0).factory()) : null;
    Executor resolve = resolverExecutor == null ? ownedResolverExecutor : resolverExecutor;
    ctx = new ClusterContext(root, concurrency, seed, control, resolve, resolver, new Events());

    Set<String> names = new HashSet<>();
    List<ClusterImpl> built = new ArrayList<>();
    for (int i = 0; i < clusters.size(); i++) {
      var proto = clusters.get(i);
      if (!names.add(proto.getName())) {
        throw new ConfigException("clusters[" + i + "].name", "duplicate cluster name " + proto.getName());
      }
      try {
        built.add(build(proto));
      } catch (ConfigException e) {
        throw e.under("clusters[" + i + "]");
      }
    }
    initialNames = new HashSet<>(names);
    Map<String, ClusterImpl> warm = new LinkedHashMap<>();
    for (ClusterImpl c : built) {
      clusterAdded.inc();
      index(c);
      if (c.warming()) {
        warmingClusters.put(c.info().name(), c);
      } else {
        warm.put(c.info().name(), c);
        initialNames.remove(c.info().name());
      }
    }
    active = Map.copyOf(warm);
    updateGauges();
    if (initialNames.isEmpty()) {
      initialized.complete(null);
    }
    // Discovery starts on the control thread, which owns all later membership changes.
    control.execute(() -> built.forEach(ClusterImpl::begin));
  }

  /**
   * Checks {@code proto} as {@link #addOrUpdateCluster} would build it, without adding it: for a
   * cluster that waits (for its SDS secrets) before it is added, so a bad one is still rejected
   * when it arrives. Nothing is kept: its stats go to a scratch store, and a cluster's timers and
   * discovery only start when it is added.
   *
   * @throws ConfigException with a path relative to the cluster resource
   */
  public void validate(io.envoyproxy.envoy.config.cluster.v3.Cluster proto) {
    build(proto, new ClusterContext(dev.sluice.stats.StatsStore.scratch(), ctx.concurrency(), ctx.seed(),
        ctx.control(), ctx.resolverExecutor(), ctx.resolver(), ctx.events()));
  }

  private ClusterImpl build(io.envoyproxy.envoy.config.cluster.v3.Cluster proto) {
    return build(proto, ctx);
  }

  private ClusterImpl build(io.envoyproxy.envoy.config.cluster.v3.Cluster proto, ClusterContext ctx) {
    if (proto.hasClusterType()) {
      throw new ConfigException("cluster_type", "custom cluster type '" + proto.getClusterType().getName()
          + "' is not supported");
    }
    ClusterInfoImpl info = new ClusterInfoImpl(proto, ctx.root());
    dev.sluice.tls.UpstreamTransportSocket.validate(info);
    LbConfig lb = LbConfigParser.parse(proto);
    HealthCheckConfig healthCheck = HealthCheckConfig.parse(proto.getHealthChecksList());
    OutlierDetectionConfig outlier = proto.hasOutlierDetection()
        ? OutlierDetectionConfig.parse(proto.getOutlierDetection()) : null;
    ClusterImpl cluster = switch (proto.getType()) {
      case STATIC -> new StaticCluster(info, lb, ctx);
      case STRICT_DNS -> new StrictDnsCluster(info, lb, ctx);
      case LOGICAL_DNS -> new LogicalDnsCluster(info, lb, ctx);
      case EDS -> new EdsCluster(info, lb, ctx);
      case ORIGINAL_DST -> new OriginalDstCluster(info, lb, ctx);
      case UNRECOGNIZED -> throw new ConfigException("type", "unknown cluster discovery type");
    };
    java.util.SplittableRandom random = new java.util.SplittableRandom(ctx.seed() ^ proto.getName().hashCode());
    OutlierDetector detector = null;
    if (outlier != null) {
      detector = new OutlierDetector(outlier, info.statsScope(), ctx.control(), System::nanoTime,
          random.split(), cluster::refreshHealth);
      cluster.watch(detector);
    }
    if (healthCheck != null) {
      HealthChecker checker = new HealthChecker(cluster, healthCheck, ctx.control(), healthCheckLoop, random.split());
      if (detector != null) {
        checker.onCheckPassed(detector::onActiveHealthCheckPassed);
      }
      cluster.watch(checker);
    }
    return cluster;
  }

  @Override
  public @Nullable Cluster get(String name) {
    return active.get(name);
  }

  @Override
  public Collection<Cluster> clusters() {
    return List.copyOf(active.values());
  }

  /** The secrets (static or SDS) health checks over a cluster's TLS transport socket use. */
  public void useSecrets(dev.sluice.tls.SecretProvider secrets) {
    healthCheckLoop.useSecrets(secrets);
  }

  /** Clusters waiting for their first membership (not yet serving). Control thread. */
  public Collection<Cluster> warmingClusters() {
    return List.copyOf(warmingClusters.values());
  }

  /** How many clusters are waiting for their first membership (no copy, unlike {@link #warmingClusters()}). Control thread. */
  public int warmingCount() {
    return warmingClusters.size();
  }

  /** True when {@code name} is warming with no earlier version serving (a route to it would find no cluster). Control thread. */
  public boolean warmingWithoutActive(String name) {
    return warmingClusters.containsKey(name) && !current().containsKey(name);
  }

  /** Completes once every cluster given to the constructor is warm (Envoy's cluster manager init). */
  public CompletableFuture<Void> initialized() {
    return initialized;
  }

  @Override
  public void addListener(ClusterUpdateListener listener) {
    listeners.add(listener);
  }

  /**
   * CDS add or update; control thread. Returns false when an identical cluster already exists.
   *
   * @throws ConfigException with a path relative to the cluster resource
   */
  public boolean addOrUpdateCluster(io.envoyproxy.envoy.config.cluster.v3.Cluster proto) {
    String name = proto.getName();
    // Added back before its removal took effect: the removal is called off.
    ClusterImpl comingBack = removing.remove(name);
    if (comingBack != null) {
      index(comingBack);
    }
    ClusterImpl existing = warmingClusters.containsKey(name) ? warmingClusters.get(name) : current().get(name);
    if (existing != null && existing.info().config().equals(proto)) {
      return false;
    }
    ClusterImpl cluster = build(proto);
    if (existing != null) {
      clusterModified.inc();
    } else {
      clusterAdded.inc();
    }
    ClusterImpl oldWarming = warmingClusters.remove(name);
    if (oldWarming != null) {
      oldWarming.end();
    }
    index(cluster);
    if (cluster instanceof EdsCluster eds && assignments.containsKey(eds.serviceName())) {
      eds.apply(assignments.get(eds.serviceName()));
    }
    if (cluster.warming()) {
      warmingClusters.put(name, cluster);
      updateGauges();
      cluster.begin();
    } else {
      cluster.begin();
      activate(cluster);
    }
    return true;
  }

  /**
   * Runs {@code changes} (calls of this class's control-thread methods) as one update: the workers
   * see one new active map at the end, however many clusters were added, activated or removed, so
   * a CDS or EDS response costs one map copy and not one per cluster. Listeners hear of each
   * change after that map is published. Batches nest. Control thread.
   */
  public void batch(Runnable changes) {
    batchDepth++;
    try {
      changes.run();
    } finally {
      if (--batchDepth == 0) {
        publish();
      }
    }
  }

  /**
   * EDS {@code initial_fetch_timeout}: an EDS cluster still warming for its first assignment is
   * activated without hosts, as Envoy's EDS cluster ends its initialization when the fetch times out.
   * Control thread.
   *
   * @return true when a warming EDS cluster of that name was activated
   */
  public boolean activateWithoutEndpoints(String name) {
    if (warmingClusters.get(name) instanceof EdsCluster eds) {
      eds.initialFetchTimedOut();
      return true;
    }
    return false;
  }

  /** CDS removal; control thread. Returns false when no such cluster exists. */
  public boolean removeCluster(String name) {
    ClusterImpl warmingOne = warmingClusters.remove(name);
    if (warmingOne != null) {
      warmingOne.end();
      unindex(warmingOne);
    }
    ClusterImpl old = current().get(name);
    if (old == null && warmingOne == null) {
      return false;
    }
    clusterRemoved.inc();
    if (old == null) {
      updateGauges();
      return true;
    }
    unindex(old);
    removing.put(name, old);
    removalGrace.accept(() -> {
      if (!removing.remove(name, old)) {
        return; // added back (or replaced) meanwhile
      }
      batch(() -> {
        if (current().get(name) != old) {
          return;
        }
        pending().remove(name);
        afterPublish.add(() -> {
          old.end();
          for (ClusterUpdateListener l : listeners) {
            l.onClusterRemoval(name);
          }
        });
      });
    });
    return true;
  }

  /**
   * Makes every later removal of an active cluster wait for {@code grace} before the cluster leaves
   * the workers' map: the server passes its workers' grace period, so a request whose route table
   * (taken when the request started) still names a cluster that CDS just removed, after RDS moved
   * the route away from it, finds the cluster and is served, instead of a 503 "cluster not found".
   * Envoy gets the same from updating both on each worker's own thread, in order. {@code grace}
   * runs its argument on the control thread.
   */
  public void removeAfter(java.util.function.Consumer<Runnable> grace) {
    this.removalGrace = grace;
  }

  private void index(ClusterImpl cluster) {
    if (cluster instanceof EdsCluster eds) {
      edsNamesByService.computeIfAbsent(eds.serviceName(), k -> new HashSet<>()).add(cluster.info().name());
    }
  }

  private void unindex(ClusterImpl cluster) {
    if (cluster instanceof EdsCluster eds) {
      Set<String> names = edsNamesByService.get(eds.serviceName());
      if (names != null && names.remove(cluster.info().name()) && names.isEmpty()) {
        edsNamesByService.remove(eds.serviceName());
      }
    }
  }

  /**
   * The EDS clusters, active and warming (both versions of a cluster being replaced), that use
   * {@code serviceName}; in proportion to them, not to all clusters. Control thread.
   */
  public List<Cluster> edsClustersUsing(String serviceName) {
    return List.copyOf(edsClusters(serviceName));
  }

  private List<EdsCluster> edsClusters(String serviceName) {
    Set<String> names = edsNamesByService.get(serviceName);
    if (names == null) {
      return List.of();
    }
    List<EdsCluster> users = new ArrayList<>(2);
    for (java.util.Iterator<String> it = names.iterator(); it.hasNext(); ) {
      String name = it.next();
      int before = users.size();
      for (ClusterImpl c : new ClusterImpl[] {current().get(name), warmingClusters.get(name)}) {
        if (c instanceof EdsCluster eds && eds.serviceName().equals(serviceName)) {
          users.add(eds);
        }
      }
      if (users.size() == before) {
        it.remove(); // no version of that cluster uses this service name any more
      }
    }
    if (names.isEmpty()) {
      edsNamesByService.remove(serviceName);
    }
    return users;
  }

  /**
   * EDS: the assignment for {@code serviceName} ({@code eds_cluster_config.service_name}, or the
   * cluster name); applied to every EDS cluster using it, active or warming. Control thread.
   *
   * @throws ConfigException with a path relative to the assignment; nothing is applied then
   */
  public void updateLoadAssignment(String serviceName, ClusterLoadAssignment assignment) {
    ConfigException error = updateLoadAssignments(Map.of(serviceName, assignment)).get(serviceName);
    if (error != null) {
      throw error;
    }
  }

  /**
   * EDS: several assignments (by service name), each applied to the clusters using it (found
   * through an index, not a pass over all clusters), and the clusters they warm activated together
   * in one batch: the cost follows the assignments and the clusters they touch, plus one copy of the
   * active map when some cluster activates. Control thread.
   *
   * @return the assignments that could not be used, with why (the others are applied)
   */
  public Map<String, ConfigException> updateLoadAssignments(Map<String, ClusterLoadAssignment> byServiceName) {
    Map<String, ConfigException> errors = new LinkedHashMap<>();
    Map<String, LoadAssignment> parsed = new HashMap<>();
    byServiceName.forEach((serviceName, assignment) -> {
      try {
        parsed.put(serviceName, LoadAssignment.parse(assignment, "", true));
      } catch (ConfigException e) {
        errors.put(serviceName, e);
      }
    });
    assignments.putAll(parsed);
    batch(() -> parsed.forEach((serviceName, assignment) -> {
      for (EdsCluster eds : edsClusters(serviceName)) {
        eds.apply(assignment);
      }
    }));
    return errors;
  }

  /** Stops DNS refreshes and cleanup timers, and the resolver pool this manager created. */
  @Override
  public void close() {
    active.values().forEach(ClusterImpl::end);
    warmingClusters.values().forEach(ClusterImpl::end);
    healthCheckLoop.close();
    if (ownedResolverExecutor != null) {
      ownedResolverExecutor.shutdownNow();
    }
  }

  private void activate(ClusterImpl cluster) {
    batch(() -> {
      ClusterImpl previous = pending().put(cluster.info().name(), cluster);
      afterPublish.add(() -> announce(cluster, previous));
    });
  }

  /** The active map as it stands in the current batch (published or not). */
  private Map<String, ClusterImpl> current() {
    return next != null ? next : active;
  }

  /** The next active map of the current batch, copied from the published one at the first change. */
  private Map<String, ClusterImpl> pending() {
    if (next == null) {
      next = new LinkedHashMap<>(active);
    }
    return next;
  }

  /** Ends a batch: one new active map for the workers, then each change's effects in order. */
  private void publish() {
    if (next != null) {
      active = Map.copyOf(next);
      next = null;
    }
    updateGauges();
    List<Runnable> effects = List.copyOf(afterPublish);
    afterPublish.clear();
    effects.forEach(Runnable::run);
  }

  private void announce(ClusterImpl cluster, @Nullable ClusterImpl previous) {
    String name = cluster.info().name();
    if (previous != null && previous != cluster) {
      previous.end();
    }
    updateGauges();
    if (initialNames.remove(name) && initialNames.isEmpty()) {
      initialized.complete(null);
    }
    for (ClusterUpdateListener l : listeners) {
      l.onClusterAddOrUpdate(cluster);
    }
  }

  private void updateGauges() {
    activeClusters.set(active.size());
    warmingGauge.set(warmingClusters.size());
  }

  /** Cluster callbacks, on the control thread. */
  private final class Events implements ClusterImpl.Events {
    @Override
    public void hostsRemoved(ClusterImpl cluster, List<Host> removed) {
      if (active.get(cluster.info().name()) != cluster) {
        return; // a warming or replaced version: nobody holds pools for its hosts
      }
      for (ClusterUpdateListener l : listeners) {
        l.onHostsRemoved(cluster, removed);
      }
    }

    @Override
    public void warmed(ClusterImpl cluster) {
      String name = cluster.info().name();
      if (warmingClusters.get(name) == cluster) {
        warmingClusters.remove(name);
        activate(cluster);
      }
    }
  }
}
