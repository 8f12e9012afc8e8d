package dev.sluice.server;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.config.ServiceLoaderExtensionRegistry;
import dev.sluice.listener.DownstreamTransportSockets;
import dev.sluice.listener.GlobalConnectionLimit;
import dev.sluice.listener.ListenerManager;
import dev.sluice.listener.Workers;
import dev.sluice.stats.StatsStore;
import dev.sluice.upstream.ClusterManagerImpl;
import dev.sluice.upstream.HostnameResolver;
import dev.sluice.upstream.pool.ConnectionPools;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * {@code --mode validate}: builds what the server would build (stats, clusters, listeners with
 * their filter chains) and collects every error as {@code field.path: message}. Nothing is bound:
 * listeners are compiled as copies with {@code bind_to_port: false}, DNS is never asked (clusters
 * needing it stay warming), and the threads used (one control thread, one worker loop) end before
 * {@link #run()} returns.
 */
final class ConfigValidation {
  /** DNS lookups are dropped: validation must not depend on (or wait for) the network. */
  private static final Executor NO_DNS = task -> { };

  private final Options options;
  private final Bootstrap bootstrap;
  private final DownstreamTransportSockets transportSockets;
  private final List<String> errors = new ArrayList<>();

  private final dev.sluice.tls.SecretProvider secrets;

  ConfigValidation(Options options, Bootstrap bootstrap, DownstreamTransportSockets transportSockets, dev.sluice.tls.SecretProvider secrets) {
    this.secrets = secrets;
    this.options = options;
    this.bootstrap = bootstrap;
    this.transportSockets = transportSockets;
  }

  /** Every error, in config order; empty when the bootstrap is valid. */
  List<String> run() {
    ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("sluice-validate").daemon(true).factory());
    try {
      // Cluster managers want their mutations on the control thread: validate on it.
      control.submit(() -> validate(control)).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      errors.add("validation interrupted");
    } catch (ExecutionException e) {
      errors.add("validation failed: " + e.getCause());
    } finally {
      control.shutdownNow();
    }
    return List.copyOf(errors);
  }

  private void validate(ScheduledExecutorService control) {
    StatsStore store = attempt(() -> Server.statsStore(bootstrap));
    if (store == null) {
      store = new StatsStore();
    }
    attempt(() -> GlobalConnectionLimit.fromBootstrap(bootstrap));
    attempt(() -> AdminAddress.of(bootstrap.getAdmin()));
    attempt(() -> InactiveExtensions.of(bootstrap, options.allowUnknownStaticFields()));
    int concurrency = Math.max(1, options.concurrency());
    List<io.envoyproxy.envoy.config.cluster.v3.Cluster> valid = validClusters(store, concurrency, control);
    ClusterManagerImpl clusters = new ClusterManagerImpl(valid, store, concurrency, control,
        HostnameResolver.JDK, NO_DNS, 0);
    try (Workers workers = new Workers(1)) {
      ClusterManager withWarming = new WarmingIncluded(clusters);
      ServerContext context = ServerContext.root(store, withWarming,
          ServiceLoaderExtensionRegistry.installed(options.rejectUnknownDynamicFields()),
          new ConnectionPools(concurrency, withWarming, secrets), new dev.sluice.http.RdsRouteConfigRegistry(),
          concurrency, bootstrap.getNode(), control, new dev.sluice.admin.HealthCheckFlag());
      attempt(() -> Server.adminAccessLog(bootstrap, context));
      try (ListenerManager listeners = new ListenerManager(workers, store, context::forListener,
          transportSockets, GlobalConnectionLimit.unlimited(), control, options.drainTime())) {
        validateListeners(listeners);
      }
    } finally {
      clusters.close();
    }
  }

  /** Each cluster on its own, so that every bad one is reported; returns the good ones. */
  private List<io.envoyproxy.envoy.config.cluster.v3.Cluster> validClusters(StatsStore store,
      int concurrency, ScheduledExecutorService control) {
    List<io.envoyproxy.envoy.config.cluster.v3.Cluster> valid = new ArrayList<>();
    Set<String> names = new HashSet<>();
    var clusters = bootstrap.getStaticResources().getClustersList();
    for (int i = 0; i < clusters.size(); i++) {
      var cluster = clusters.get(i);
      String path = "static_resources.clusters[" + i + "]";
      if (!names.add(cluster.getName())) {
        errors.add(path + ".name: duplicate cluster name " + cluster.getName());
        continue;
      }
      try {
        new ClusterManagerImpl(List.of(cluster), store, concurrency, control, HostnameResolver.JDK,
            NO_DNS, 0).close();
        valid.add(cluster);
      } catch (ConfigException e) {
        // The manager names the cluster clusters[0]: put the real index back.
        String inner = e.fieldPath().startsWith("clusters[0]")
            ? e.fieldPath().substring("clusters[0]".length()) : "." + e.fieldPath();
        String reason = e.getMessage().substring(e.fieldPath().isEmpty() ? 0 : e.fieldPath().length() + 2);
        errors.add(path + (inner.equals(".") ? "" : inner) + ": " + reason);
      }
    }
    return valid;
  }

  private void validateListeners(ListenerManager manager) {
    var listeners = bootstrap.getStaticResources().getListenersList();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < listeners.size(); i++) {
      Listener l = listeners.get(i);
      String path = "static_resources.listeners[" + i + "]";
      if (!names.add(l.getName())) {
        errors.add(path + ".name: duplicate listener name " + l.getName());
        continue;
      }
      // Compiled exactly as served, but never bound.
      Listener unbound = l.toBuilder().setBindToPort(com.google.protobuf.BoolValue.of(false)).build();
      try {
        manager.addOrUpdate(unbound);
      } catch (ConfigException e) {
        errors.add(e.under(path).getMessage());
      }
    }
  }

  private <T> @Nullable T attempt(java.util.function.Supplier<T> step) {
    try {
      return step.get();
    } catch (ConfigException e) {
      errors.add(e.getMessage());
      return null;
    }
  }

  /**
   * Route validation checks that each named cluster exists; in validate mode DNS and EDS clusters
   * never warm, so they count as present too.
   */
  private record WarmingIncluded(ClusterManagerImpl delegate) implements ClusterManager {
    @Override
    public @Nullable Cluster get(String name) {
      Cluster c = delegate.get(name);
      if (c != null) {
        return c;
      }
      for (Cluster w : delegate.warmingClusters()) {
        if (w.info().name().equals(name)) {
          return w;
        }
      }
      return null;
    }

    @Override
    public Collection<Cluster> clusters() {
      List<Cluster> all = new ArrayList<>(delegate.clusters());
      all.addAll(delegate.warmingClusters());
      return all;
    }

    @Override
    public void addListener(ClusterUpdateListener listener) {
      delegate.addListener(listener);
    }
  }
}
