package dev.sluice.upstream;

import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterStats;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancer;
import dev.sluice.lb.LbConfig;
import dev.sluice.lb.LbSnapshot;
import dev.sluice.lb.LoadBalancerFactory;
import dev.sluice.lb.LocalityGroup;
import dev.sluice.lb.PrioritySet;
import io.envoyproxy.envoy.config.core.v3.Locality;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What every cluster type shares: its info, one balancer per worker and the membership snapshot
 * they read (one volatile field). Membership changes run on the control thread: they build a new
 * {@link PrioritySet} (and hash tables), publish it, update the membership stats and report
 * removed hosts.
 */
public abstract class ClusterImpl implements Cluster {
  /** How a cluster reports to its manager; always called on the control thread. */
  interface Events {
    void hostsRemoved(ClusterImpl cluster, List<Host> removed);

    void warmed(ClusterImpl cluster);
  }

  /**
   * Follows a cluster's hosts on the control thread: the active health checker and the outlier
   * detector set and clear their health flags, then call {@link #refreshHealth()}.
   */
  public interface HostWatcher {
    /** New hosts, before the snapshot that holds them is published (flags set here count). */
    void hostsAdded(List<HostImpl> added);

    void hostsRemoved(List<HostImpl> removed);

    /** The cluster was accepted: timers may run. */
    default void start() {}

    /** The cluster is no longer in use: timers and connections end. */
    default void stop() {}

    /**
     * True when the cluster warms until {@link #whenInitialized} runs its callback (Envoy waits
     * for every host's first active health check before a cluster is initialized).
     */
    default boolean gatesWarming() {
      return false;
    }

    /** Runs {@code ready} on the control thread once the hosts known so far are initialized. */
    default void whenInitialized(Runnable ready) {
      ready.run();
    }
  }

  private final ClusterInfoImpl info;
  private final LbConfig lbConfig;
  private final @Nullable LoadBalancerFactory factory;
  private final LoadBalancer[] balancers;
  final Events events;
  private volatile LbSnapshot snapshot;
  private volatile boolean warming;
  private List<LocalityGroup> groups = List.of();
  private int overprovisioningFactor = 140;
  private final List<HostWatcher> watchers = new ArrayList<>();
  /** A watcher made a cluster that was warm at construction warm up: finish once started. */
  private boolean warmOnBegin;
  private boolean awaitingWatchers;

  /**
   * Builds one balancer per worker from {@code lbConfig}, except for CLUSTER_PROVIDED where the
   * subclass overrides {@link #loadBalancer}.
   */
  ClusterImpl(ClusterInfoImpl info, LbConfig lbConfig, int concurrency, long seed,
      boolean warming, Events events) {
    this.info = info;
    this.lbConfig = lbConfig;
    this.events = events;
    this.warming = warming;
    this.snapshot = LoadBalancerFactory.plain(new PrioritySet(List.of(), 140, lbConfig.panicThreshold()));
    boolean provided = lbConfig.policy() == LbConfig.Policy.CLUSTER_PROVIDED;
    this.factory = provided ? null : new LoadBalancerFactory(lbConfig, info.statsScope(), System::nanoTime);
    this.balancers = new LoadBalancer[provided ? 0 : concurrency];
    for (int i = 0; i < balancers.length; i++) {
      balancers[i] = factory.create(workerSeed(seed, i), this::snapshot, info.stats().lbHealthyPanic);
    }
  }

  /** Distinct, reproducible seeds per worker, so workers start at different positions. */
  static long workerSeed(long seed, int worker) {
    return seed * 0x9E3779B97F4A7C15L + worker;
  }

  /** Starts discovery (DNS timers, cleanup); called on the control thread once the cluster is accepted. */
  void start() {}

  /** Stops timers; the cluster is no longer in use. */
  void stop() {}

  /**
   * Adds a host watcher before the cluster is started (control thread, or the constructing
   * thread): it hears of the current hosts at once, and the snapshot is republished.
   */
  public final void watch(HostWatcher watcher) {
    List<HostImpl> current = new ArrayList<>();
    for (List<Host> hosts : hostsByPriority()) {
      for (Host h : hosts) {
        if (h instanceof HostImpl impl) {
          current.add(impl);
        }
      }
    }
    watchers.add(watcher);
    if (!current.isEmpty()) {
      watcher.hostsAdded(current);
      refreshHealth();
    }
    if (watcher.gatesWarming() && !warming) {
      warming = true;
      warmOnBegin = true;
    }
  }

  /** The watcher of that type (the health checker, the outlier detector), or null. */
  public <T extends HostWatcher> @Nullable T watcher(Class<T> type) {
    for (HostWatcher w : watchers) {
      if (type.isInstance(w)) {
        return type.cast(w);
      }
    }
    return null;
  }

  /** Starts discovery and the host watchers; control thread. */
  final void begin() {
    start();
    watchers.forEach(HostWatcher::start);
    if (warmOnBegin) {
      warmOnBegin = false;
      markWarm();
    }
  }

  /** Stops discovery and the host watchers. */
  final void end() {
    stop();
    watchers.forEach(HostWatcher::stop);
  }

  @Override
  public ClusterInfoImpl info() {
    return info;
  }

  @Override
  public LoadBalancer loadBalancer(int workerIndex) {
    return balancers[workerIndex];
  }

  @Override
  public List<List<Host>> hostsByPriority() {
    return snapshot.prioritySet().hostsByPriority();
  }

  @Override
  public boolean warming() {
    return warming;
  }

  /** The current membership snapshot (what balancers read). */
  public LbSnapshot snapshot() {
    return snapshot;
  }

  LbConfig lbConfig() {
    return lbConfig;
  }

  /** Control thread: the first membership arrived (or DNS answered). */
  final void markWarm() {
    if (warming && !awaitingWatchers) {
      awaitingWatchers = true;
      awaitWatchers(0);
    }
  }

  /** Envoy's initialization waits for the first active health check of every host. */
  private void awaitWatchers(int index) {
    if (index == watchers.size()) {
      warming = false;
      events.warmed(this);
      return;
    }
    watchers.get(index).whenInitialized(() -> awaitWatchers(index + 1));
  }

  /**
   * Re-reads host health flags (after EDS, health checking or outlier detection changed them) and
   * publishes a snapshot with the same hosts. Control thread.
   */
  public void refreshHealth() {
    publish(groups, overprovisioningFactor);
  }

  /** Publishes a new membership; reports hosts that are gone. Control thread. */
  final void publish(List<LocalityGroup> newGroups, int factor) {
    List<Host> before = snapshot.prioritySet().hostsByPriority().stream().flatMap(List::stream).toList();
    Set<Host> beforeSet = Collections.newSetFromMap(new IdentityHashMap<>());
    beforeSet.addAll(before);
    if (!watchers.isEmpty()) {
      List<HostImpl> added = new ArrayList<>();
      for (LocalityGroup g : newGroups) {
        for (Host h : g.hosts()) {
          if (!beforeSet.contains(h) && h instanceof HostImpl impl) {
            added.add(impl);
          }
        }
      }
      if (!added.isEmpty()) {
        watchers.forEach(w -> w.hostsAdded(added));
      }
    }
    this.groups = List.copyOf(newGroups);
    this.overprovisioningFactor = factor;
    PrioritySet set = new PrioritySet(groups, factor, lbConfig.panicThreshold());
    snapshot = factory == null ? LoadBalancerFactory.plain(set) : factory.snapshot(set);

    Set<Host> after = Collections.newSetFromMap(new IdentityHashMap<>());
    int healthy = 0;
    int degraded = 0;
    int maxWeight = 0;
    for (List<Host> hosts : set.hostsByPriority()) {
      for (Host h : hosts) {
        after.add(h);
        healthy += h.healthy() ? 1 : 0;
        degraded += h.degraded() ? 1 : 0;
        maxWeight = Math.max(maxWeight, h.weight());
      }
    }
    List<Host> removed = new ArrayList<>();
    for (Host h : before) {
      if (!after.contains(h)) {
        removed.add(h);
      }
    }
    boolean added = after.stream().anyMatch(h -> !beforeSet.contains(h));
    ClusterStats stats = info.stats();
    stats.membershipTotal.set(after.size());
    stats.membershipHealthy.set(healthy);
    stats.membershipDegraded.set(degraded);
    stats.membershipExcluded.set(0);
    stats.maxHostWeight.set(maxWeight);
    if (added || !removed.isEmpty()) {
      stats.membershipChange.inc();
    }
    if (!removed.isEmpty()) {
      if (!watchers.isEmpty()) {
        List<HostImpl> gone = removed.stream()
            .filter(HostImpl.class::isInstance).map(HostImpl.class::cast).toList();
        watchers.forEach(w -> w.hostsRemoved(gone));
      }
      events.hostsRemoved(this, removed);
    }
  }

  /** Groups hosts by (priority, locality), in order of first appearance. */
  static List<LocalityGroup> group(List<EndpointSpec> specs, List<? extends Host> hosts) {
    record Key(int priority, Locality locality) {}
    Map<Key, List<Host>> byKey = new LinkedHashMap<>();
    Map<Key, Integer> weights = new HashMap<>();
    for (int i = 0; i < specs.size(); i++) {
      EndpointSpec s = specs.get(i);
      Key key = new Key(s.priority(), s.locality());
      byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(hosts.get(i));
      weights.putIfAbsent(key, s.localityWeight());
    }
    List<LocalityGroup> out = new ArrayList<>();
    byKey.forEach((k, list) -> out.add(new LocalityGroup(k.priority(), k.locality(), weights.get(k), list)));
    return out;
  }

  /**
   * Hosts for {@code specs} at {@code addresses}, reusing a previous host with the same address
   * (its weight, priority, locality, metadata and EDS health then updated), else a new host.
   */
  List<HostImpl> reuseOrCreate(List<EndpointSpec> specs, List<? extends SocketAddress> addresses,
      List<HostImpl> previous) {
    Map<String, ArrayDeque<HostImpl>> old = new HashMap<>();
    for (HostImpl h : previous) {
      old.computeIfAbsent(h.addressString(), k -> new ArrayDeque<>()).add(h);
    }
    List<HostImpl> out = new ArrayList<>(specs.size());
    for (int i = 0; i < specs.size(); i++) {
      EndpointSpec s = specs.get(i);
      SocketAddress address = addresses.get(i);
      ArrayDeque<HostImpl> same = old.get(HostImpl.format(address));
      HostImpl host = same == null ? null : same.poll();
      if (host == null) {
        host = new HostImpl(info, address, s.hostname(), s.weight(), s.priority(), s.locality(), s.metadata());
      } else {
        host.update(s.weight(), s.priority(), s.locality(), s.metadata());
      }
      host.setHealthFlag(HealthFlag.FAILED_EDS_HEALTH, s.edsFailed());
      host.setHealthFlag(HealthFlag.DEGRADED_EDS_HEALTH, s.edsDegraded());
      host.setHealthCheckConfig(s.healthCheckConfig());
      out.add(host);
    }
    return out;
  }

  @Override
  public String toString() {
    return info.name();
  }
}
