package dev.sluice.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.http.RdsRouteConfigRegistry;
import dev.sluice.listener.ListenerManager;
import dev.sluice.upstream.ClusterManagerImpl;
import io.envoyproxy.envoy.admin.v3.ClientResourceStatus;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.ScopedRoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.UpdateFailureState;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bootstrap's {@code dynamic_resources} at run time: CDS and LDS from their config sources
 * (the ADS stream of {@code ads_config}, SotW or delta per its {@code api_type}; a standalone
 * {@code api_config_source} stream; or a watched file, see {@link XdsSources}), with EDS and RDS
 * following the clusters and listeners that need them, each name from its own config source. Its {@link #start()} future is Envoy's init for dynamic resources:
 * the first CDS response applied and the clusters it brought warm (endpoints arrived), then the
 * first LDS response applied and its listeners warm (routes arrived); each stage also ends after
 * its {@code initial_fetch_timeout} (0: wait forever), counting {@code init_fetch_timeout}.
 * Control thread only.
 */
public final class DynamicResources implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger("sluice.xds");

  /** The ADS stream of {@code ads_config}, null without one. */
  private final @Nullable AdsClient ads;
  private final XdsChannels.@Nullable XdsChannel adsChannel;
  private final XdsSources sources;
  private final @Nullable ConfigSource cdsSource;
  private final @Nullable ConfigSource ldsSource;
  private final ResourceHandler edsHandler;
  private final ResourceHandler rdsHandler;
  private final ClusterManagerImpl clusters;
  private final ClusterApplier clusterApplier;
  private final ListenerApplier listenerApplier;
  private final VhdsApplier vhds;
  private final RdsRouteConfigRegistry routes;
  private final ScheduledExecutorService control;
  private final long cdsTimeoutMs;
  private final long ldsTimeoutMs;
  private final CompletableFuture<Void> initialized = new CompletableFuture<>();
  private final ResourceRecord clusterRecord;
  private final ResourceRecord endpointRecord;
  private final ResourceRecord listenerRecord;
  private final ResourceRecord routeRecord;
  private final ResourceRecord scopedRouteRecord;
  /** The SRDS sources subscribed so far (each a wildcard subscription, kept once made). */
  private final Set<ConfigSource> srdsSubscribed = new java.util.LinkedHashSet<>();
  private Stage stage = Stage.NOT_STARTED;
  private boolean cdsResponded;
  private boolean ldsResponded;
  private @Nullable ScheduledFuture<?> stageTimer;

  private enum Stage { NOT_STARTED, CDS, LDS, DONE }

  private DynamicResources(Bootstrap bootstrap, @Nullable AdsClient ads, XdsChannels.@Nullable XdsChannel adsChannel,
      ClusterManagerImpl clusters, ListenerManager listeners, RdsRouteConfigRegistry routes,
      ScheduledExecutorService control, Clock clock, StatsScope stats) {
    var dynamic = bootstrap.getDynamicResources();
    this.clusterRecord = new ResourceRecord(clock);
    this.endpointRecord = new ResourceRecord(clock);
    this.listenerRecord = new ResourceRecord(clock);
    this.routeRecord = new ResourceRecord(clock);
    this.scopedRouteRecord = new ResourceRecord(clock);
    this.ads = ads;
    this.adsChannel = adsChannel;
    this.sources = new XdsSources(this::adsClient, clusters, bootstrap.getNode(), control, stats);
    this.clusters = clusters;
    this.control = control;
    this.cdsSource = dynamic.hasCdsConfig() ? XdsSources.key(dynamic.getCdsConfig(), "dynamic_resources.cds_config") : null;
    this.ldsSource = dynamic.hasLdsConfig() ? XdsSources.key(dynamic.getLdsConfig(), "dynamic_resources.lds_config") : null;
    this.cdsTimeoutMs = XdsChannels.initialFetchTimeoutMs(dynamic.getCdsConfig());
    this.ldsTimeoutMs = XdsChannels.initialFetchTimeoutMs(dynamic.getLdsConfig());
    this.clusterApplier = new ClusterApplier(clusters, bootstrap.getStaticResources().getClustersList(),
        this::edsNamesChanged, control, () -> routes.configs().values(),
        this::clusterWarmedOnSecrets);
    this.routes = routes;
    this.vhds = new VhdsApplier(routes, control, ads == null ? null : ads.protocol(),
        names -> sources.updateNames(XdsResourceType.VIRTUAL_HOST, names, this::applyVirtualHosts), stats,
        VhdsApplier.DEFAULT_ON_DEMAND_TIMEOUT);
    routes.virtualHostDiscovery(vhds);
    this.listenerApplier = new ListenerApplier(listeners, routes, bootstrap.getStaticResources().getListenersList(),
        control, this::rdsNamesChanged, this::srdsSourcesChanged, stats,
        name -> clusters.warmingWithoutActive(name) || clusterApplier.warmingOnSecretsWithoutActive(name), vhds);
    this.edsHandler = endpointRecord.recording(clusterApplier::applyEndpoints);
    this.rdsHandler = routeRecord.recording(listenerApplier::applyRoutes);
  }

  private java.util.List<ResourceHandler.ResourceError> applyVirtualHosts(ResourceHandler.Update update) {
    return vhds.apply(update);
  }

  private AdsClient adsClient() {
    if (ads == null) {
      throw new ConfigException("dynamic_resources.ads_config", "an ads config source is used but there is no ads_config");
    }
    return ads;
  }

  private void edsNamesChanged(Map<ConfigSource, Set<String>> names) {
    sources.updateNames(XdsResourceType.ENDPOINT, names, edsHandler);
  }

  /** RDS names are subscribed from the LDS stage on (a listener's routes follow the listener). */
  private void rdsNamesChanged(Map<ConfigSource, Set<String>> names) {
    if (stage == Stage.LDS || stage == Stage.DONE) {
      sources.updateNames(XdsResourceType.ROUTE, names, rdsHandler);
    }
  }

  /** SRDS sources are subscribed from the LDS stage on, as RDS; each once, to every scope. */
  private void srdsSourcesChanged(Set<ConfigSource> needed) {
    if (stage != Stage.LDS && stage != Stage.DONE) {
      return;
    }
    for (ConfigSource source : needed) {
      if (srdsSubscribed.add(source)) {
        sources.subscribeAll(XdsResourceType.SCOPED_ROUTE, source,
            scopedRouteRecord.recording(update -> listenerApplier.applyScopedRoutes(source, update)));
      }
    }
  }

  /**
   * Builds the client for the bootstrap's {@code dynamic_resources.ads_config}; the ADS cluster must
   * already be in {@code clusters} with a host.
   *
   * @throws ConfigException naming the {@code dynamic_resources} field that cannot be used
   */
  public static void check(Bootstrap bootstrap) {
    var dynamic = bootstrap.getDynamicResources();
    if (dynamic.hasAdsConfig()) {
      protocol(dynamic.getAdsConfig());
      if (dynamic.getAdsConfig().getGrpcServicesCount() == 0) {
        throw new ConfigException("dynamic_resources.ads_config.grpc_services", "a gRPC service is required");
      }
    }
    checkSource(dynamic.hasCdsConfig(), dynamic.getCdsConfig(), dynamic.hasAdsConfig(), "dynamic_resources.cds_config");
    checkSource(dynamic.hasLdsConfig(), dynamic.getLdsConfig(), dynamic.hasAdsConfig(), "dynamic_resources.lds_config");
  }

  private static AdsClient.Protocol protocol(ApiConfigSource ads) {
    return switch (ads.getApiType()) {
      case GRPC -> AdsClient.Protocol.SOTW;
      case DELTA_GRPC -> AdsClient.Protocol.DELTA;
      default -> throw new ConfigException("dynamic_resources.ads_config.api_type",
          "ADS needs GRPC or DELTA_GRPC, not " + ads.getApiType());
    };
  }

  /** @see #check */
  public static DynamicResources create(Bootstrap bootstrap, ClusterManagerImpl clusters,
      ListenerManager listeners, RdsRouteConfigRegistry routes, StatsScope stats,
      ScheduledExecutorService control) {
    check(bootstrap);
    if (!bootstrap.getDynamicResources().hasAdsConfig()) {
      return new DynamicResources(bootstrap, null, null, clusters, listeners, routes, control, Clock.systemUTC(), stats);
    }
    ApiConfigSource ads = bootstrap.getDynamicResources().getAdsConfig();
    AdsClient.Protocol protocol = protocol(ads);
    XdsChannels.XdsChannel channel = XdsChannels.open(ads.getGrpcServices(0), clusters,
        "dynamic_resources.ads_config.grpc_services[0]");
    AdsClient client = new AdsClient(channel.channel(), bootstrap.getNode(), protocol,
        ads.getSetNodeOnFirstMessageOnly(), control, Backoff.jittered(), Clock.systemUTC(), stats);
    if (ads.hasRateLimitSettings()) {
      client.limitRequests(ads.getRateLimitSettings());
    }
    return new DynamicResources(bootstrap, client, channel, clusters, listeners, routes, control, Clock.systemUTC(), stats);
  }

  private static void checkSource(boolean set, ConfigSource source, boolean hasAds, String path) {
    if (set && XdsSources.isAds(XdsSources.key(source, path)) && !hasAds) {
      throw new ConfigException(path, "an ads config source needs dynamic_resources.ads_config");
    }
  }


  /**
   * Opens the stream and subscribes (control thread). The future completes when the first CDS and
   * LDS round is done (see the class comment); the server goes LIVE then.
   */
  public CompletableFuture<Void> start() {
    edsNamesChanged(clusterApplier.edsServiceNames());
    clusters.addListener(new ClusterManager.ClusterUpdateListener() {
      @Override
      public void onClusterAddOrUpdate(dev.sluice.api.upstream.Cluster cluster) {
        listenerApplier.clusterActive(cluster.info().name());
        progress();
      }
    });
    listenerApplier.onChange(() -> {
      clusterApplier.routesChanged();
      progress();
    });
    clusterApplier.startFetchTimers();
    if (cdsSource != null) {
      sources.subscribeAll(XdsResourceType.CLUSTER, cdsSource, clusterRecord.recording(update -> {
        cdsResponded = true;
        var errors = clusterApplier.applyClusters(update);
        listenerApplier.clustersChanged();
        progress();
        return errors;
      }));
    }
    sources.start();
    enter(Stage.CDS, cdsTimeoutMs);
    progress();
    return initialized;
  }

  private void enter(Stage next, long timeoutMs) {
    stage = next;
    if (stageTimer != null) {
      stageTimer.cancel(false);
      stageTimer = null;
    }
    if (timeoutMs > 0 && next != Stage.DONE) {
      stageTimer = control.schedule(() -> timedOut(next), timeoutMs, TimeUnit.MILLISECONDS);
    }
  }

  private void timedOut(Stage expired) {
    if (stage != expired) {
      return;
    }
    log.warn("{} initial fetch timed out; continuing start-up without it", expired);
    if (expired == Stage.CDS) {
      cdsResponded = true;
      startLds();
    } else {
      ldsResponded = true;
      listenerApplier.finishAllWarming();
      finishInit();
    }
  }

  private void clusterWarmedOnSecrets() {
    listenerApplier.clustersChanged();
    progress();
  }

  /** Moves init on when the current stage's condition holds; runs after every change. */
  private void progress() {
    if (stage == Stage.CDS && (cdsSource == null || cdsResponded) && clusters.warmingCount() == 0 && !clusterApplier.warmingOnSecrets()) {
      startLds();
    }
    if (stage == Stage.LDS && (ldsSource == null || ldsResponded) && !listenerApplier.warming()) {
      finishInit();
    }
  }

  private void startLds() {
    enter(Stage.LDS, ldsTimeoutMs);
    srdsSourcesChanged(listenerApplier.neededScopedSources());
    rdsNamesChanged(listenerApplier.neededRouteNames());
    if (ldsSource != null) {
      sources.subscribeAll(XdsResourceType.LISTENER, ldsSource, listenerRecord.recording(update -> {
        ldsResponded = true;
        return listenerApplier.applyListeners(update);
      }));
    }
    progress();
  }

  private void finishInit() {
    enter(Stage.DONE, 0);
    initialized.complete(null);
  }

  /**
   * Listeners and clusters whose TLS contexts name SDS secrets warm until those arrive (or their
   * {@code initial_fetch_timeout} passes), as Envoy's; call before {@link #start}.
   */
  public void warmOnSecrets(SdsSecretProvider secrets) {
    clusterApplier.warmOnSecrets(secrets);
    listenerApplier.warmOnSecrets(secrets);
  }

  /** The ADS stream of {@code ads_config}, null when there is none. */
  public @Nullable AdsClient client() {
    return ads;
  }

  /** The dynamic clusters accepted by name (for {@code /config_dump}). */
  public java.util.Map<String, Cluster> dynamicClusters() {
    return clusterApplier.dynamicClusters();
  }

  public java.util.Map<String, Listener> dynamicActiveListeners() {
    return listenerApplier.activeListeners();
  }

  public java.util.Map<String, Listener> dynamicWarmingListeners() {
    return listenerApplier.warmingListeners();
  }

  // ---- /config_dump (admin thread; the records are concurrent maps, the rest copies) ----

  /**
   * Adds the CDS clusters to {@code dump}: {@code dynamic_active_clusters}, and
   * {@code dynamic_warming_clusters} for those still waiting for their endpoints; the top-level
   * {@code version_info} is the last accepted CDS version. A cluster whose last update was rejected
   * carries the rejection in {@code error_state}; one never accepted is listed among the active
   * ones with only its {@code error_state} and {@code client_status: NACKED}.
   */
  public void dumpClusters(ClustersConfigDump.Builder dump, Predicate<String> names) {
    dump.setVersionInfo(cdsSource == null ? "" : sources.acceptedVersion(XdsResourceType.CLUSTER, cdsSource));
    Set<String> warming = clusters.warmingClusters().stream().map(c -> c.info().name()).collect(Collectors.toSet());
    Map<String, ResourceRecord.Failure> failures = clusterRecord.failures();
    Map<String, ResourceRecord.Accepted> accepted = clusterRecord.accepted();
    Set<String> all = new TreeSet<>(accepted.keySet());
    all.addAll(failures.keySet());
    for (String name : all) {
      ResourceRecord.Accepted a = accepted.get(name);
      boolean held = clusters.get(name) != null || warming.contains(name);
      ResourceRecord.Failure f = failures.get(name);
      if (!names.test(name) || (a == null || !held) && f == null) {
        continue;
      }
      var entry = ClustersConfigDump.DynamicCluster.newBuilder();
      if (a != null && held) {
        entry.setVersionInfo(a.version()).setCluster(Any.pack(a.resource())).setLastUpdated(a.lastUpdated());
      }
      if (f != null) {
        entry.setErrorState(failure(f)).setClientStatus(ClientResourceStatus.NACKED);
      }
      if (warming.contains(name)) {
        dump.addDynamicWarmingClusters(entry);
      } else {
        dump.addDynamicActiveClusters(entry);
      }
    }
  }

  /**
   * Adds the LDS listeners: each with its {@code active_state} and/or {@code warming_state}, and an
   * {@code error_state} holding the last rejected update (the NACK's details), also for a listener
   * that was never accepted.
   */
  public void dumpListeners(ListenersConfigDump.Builder dump, Predicate<String> names) {
    dump.setVersionInfo(ldsSource == null ? "" : sources.acceptedVersion(XdsResourceType.LISTENER, ldsSource));
    Map<String, Listener> active = listenerApplier.activeListeners();
    Map<String, Listener> warming = listenerApplier.warmingListeners();
    Map<String, ResourceRecord.Failure> failures = listenerRecord.failures();
    Set<String> all = new TreeSet<>(active.keySet());
    all.addAll(warming.keySet());
    all.addAll(failures.keySet());
    for (String name : all) {
      if (!names.test(name)) {
        continue;
      }
      var entry = ListenersConfigDump.DynamicListener.newBuilder().setName(name);
      ResourceRecord.Accepted a = listenerRecord.accepted(name);
      String version = a == null ? "" : a.version();
      Timestamp updated = a == null ? Timestamp.getDefaultInstance() : a.lastUpdated();
      if (active.containsKey(name)) {
        entry.setActiveState(ListenersConfigDump.DynamicListenerState.newBuilder().setVersionInfo(version)
            .setListener(Any.pack(active.get(name))).setLastUpdated(updated));
      }
      if (warming.containsKey(name)) {
        entry.setWarmingState(ListenersConfigDump.DynamicListenerState.newBuilder().setVersionInfo(version)
            .setListener(Any.pack(warming.get(name))).setLastUpdated(updated));
      }
      ResourceRecord.Failure f = failures.get(name);
      if (f != null) {
        entry.setErrorState(failure(f)).setClientStatus(ClientResourceStatus.NACKED);
      }
      dump.addDynamicListeners(entry);
    }
  }

  /**
   * Adds the RDS route configurations held ({@code dynamic_route_configs}), each with the
   * {@code error_state} of its last rejected update if any (alone for one never accepted). One with
   * {@code vhds} shows, as Envoy's, the configuration in force: its RDS virtual hosts merged with
   * those VHDS delivered.
   */
  public void dumpRoutes(RoutesConfigDump.Builder dump, Predicate<String> names) {
    forEachDumped(routeRecord, names, (a, f) -> {
      var entry = RoutesConfigDump.DynamicRouteConfig.newBuilder();
      if (a != null) {
        io.envoyproxy.envoy.config.route.v3.RouteConfiguration received =
            (io.envoyproxy.envoy.config.route.v3.RouteConfiguration) a.resource();
        var inForce = received.hasVhds() ? routes.config(received.getName()) : null;
        entry.setVersionInfo(a.version()).setRouteConfig(Any.pack(inForce != null && inForce.hasVhds() ? inForce : received))
            .setLastUpdated(a.lastUpdated());
      }
      if (f != null) {
        entry.setErrorState(failure(f)).setClientStatus(ClientResourceStatus.NACKED);
      }
      dump.addDynamicRouteConfigs(entry);
    });
  }

  /**
   * Adds the SRDS scoped route configurations: per {@code scoped_routes.name}, the scopes it holds ({@code dynamic_scoped_route_configs}) with the source's accepted version, the time the
   * last of them changed, and the last rejected scope if any ({@code error_state}).
   */
  public void dumpScopedRoutes(ScopedRoutesConfigDump.Builder dump, Predicate<String> names) {
    Map<String, ResourceRecord.Accepted> accepted = scopedRouteRecord.accepted();
    Map<String, ResourceRecord.Failure> failures = scopedRouteRecord.failures();
    for (Map.Entry<String, ConfigSource> use : listenerApplier.scopedRoutesSources().entrySet()) {
      Map<String, io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration> held = listenerApplier.scopes(use.getValue());
      if (!names.test(use.getKey()) || held == null && failures.isEmpty()) {
        continue;
      }
      var entry = ScopedRoutesConfigDump.DynamicScopedRouteConfigs.newBuilder().setName(use.getKey())
          .setVersionInfo(sources.acceptedVersion(XdsResourceType.SCOPED_ROUTE, use.getValue()));
      Timestamp last = null;
      for (var scope : held == null ? List.<io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration>of()
          : held.values().stream().sorted(java.util.Comparator.comparing(
              io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration::getName)).toList()) {
        entry.addScopedRouteConfigs(Any.pack(scope));
        ResourceRecord.Accepted a = accepted.get(scope.getName());
        if (a != null && (last == null || com.google.protobuf.util.Timestamps.compare(a.lastUpdated(), last) > 0)) {
          last = a.lastUpdated();
        }
      }
      if (last != null) {
        entry.setLastUpdated(last);
      }
      failures.values().stream().max(java.util.Comparator.comparing(ResourceRecord.Failure::lastUpdateAttempt,
          com.google.protobuf.util.Timestamps::compare)).ifPresent(f ->
          entry.setErrorState(failure(f)).setClientStatus(ClientResourceStatus.NACKED));
      dump.addDynamicScopedRouteConfigs(entry);
    }
  }

  /** The EDS assignments held ({@code dynamic_endpoint_configs}, for {@code ?include_eds}), as {@link #dumpRoutes}. */
  public void dumpEndpoints(EndpointsConfigDump.Builder dump, Predicate<String> names) {
    forEachDumped(endpointRecord, names, (a, f) -> {
      var entry = EndpointsConfigDump.DynamicEndpointConfig.newBuilder();
      if (a != null) {
        entry.setVersionInfo(a.version()).setEndpointConfig(Any.pack(a.resource())).setLastUpdated(a.lastUpdated());
      }
      if (f != null) {
        entry.setErrorState(failure(f)).setClientStatus(ClientResourceStatus.NACKED);
      }
      dump.addDynamicEndpointConfigs(entry);
    });
  }

  /** Each resource of {@code record} accepted or rejected, by name, with what is known of it. */
  private static void forEachDumped(ResourceRecord record, Predicate<String> names,
      java.util.function.BiConsumer<ResourceRecord.@Nullable Accepted, ResourceRecord.@Nullable Failure> entry) {
    Map<String, ResourceRecord.Accepted> accepted = record.accepted();
    Map<String, ResourceRecord.Failure> failures = record.failures();
    Set<String> all = new TreeSet<>(accepted.keySet());
    all.addAll(failures.keySet());
    for (String name : all) {
      if (names.test(name)) {
        entry.accept(accepted.get(name), failures.get(name));
      }
    }
  }

  private static UpdateFailureState failure(ResourceRecord.Failure f) {
    return UpdateFailureState.newBuilder().setFailedConfiguration(Any.pack(f.resource()))
        .setLastUpdateAttempt(f.lastUpdateAttempt()).setDetails(f.details()).setVersionInfo(f.version()).build();
  }

  @Override
  public void close() {
    if (stageTimer != null) {
      stageTimer.cancel(false);
    }
    sources.close();
    if (ads != null) {
      ads.close();
    }
    if (adsChannel != null) {
      adsChannel.close();
    }
    if (!initialized.isDone()) {
      initialized.completeExceptionally(new IllegalStateException("xDS closed before initialization"));
    }
  }
}
