package dev.sluice.xds;

import com.google.protobuf.Message;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.http.RdsRouteConfigRegistry;
import dev.sluice.http.VirtualHostDiscovery;
import dev.sluice.router.VirtualHostMerge;
import dev.sluice.xds.ResourceHandler.ResourceError;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * VHDS, as Envoy: a route configuration with {@code vhds} subscribes (delta xDS only) to
 * {@code VirtualHost} resources on {@code vhds.config_source}; the first request names nothing and
 * the server sends the virtual hosts it wants this proxy to have, and a request whose host no
 * virtual host matches (with the {@code on_demand} filter) subscribes to
 * {@code <route configuration name>/<host>}. Every virtual host received is merged into its route
 * configuration (the RDS ones, a VHDS one replacing the RDS one of its name; see
 * {@link VirtualHostMerge}) and the merged configuration is published as a new table; a removed
 * one is dropped. The VHDS virtual hosts survive RDS updates of their route configuration unless
 * its {@code vhds.config_source} changes.
 *
 * <p>A virtual host belongs to the route configuration its resource name (or an alias) starts
 * with ({@code <name>/...}; the host part holds no slash), or to the only VHDS route configuration.
 * Requests waiting for {@code <rc>/<host>} resume when a response names it (a resource of that name
 * or with it among its {@code aliases}: found; in {@code removed_resources}, or a resource without
 * a body: not found), or after {@link #DEFAULT_ON_DEMAND_TIMEOUT}: Envoy has no bound there, the
 * request waiting for its stream timeouts. A name not found is unsubscribed, so that a later
 * request asks again. Stats per route configuration, as Envoy's:
 * {@code http.<stat_prefix>.vhds.<route_config_name>.{config_reload,empty_update}} and the
 * subscription's {@code update_attempt/update_success/update_rejected}. Control thread, except
 * {@link #request}.
 */
final class VhdsApplier implements VirtualHostDiscovery {
  private static final Logger log = LoggerFactory.getLogger("sluice.xds");
  /** How long a request waits for its virtual host on demand before it goes on without a route. */
  static final Duration DEFAULT_ON_DEMAND_TIMEOUT = Duration.ofSeconds(5);

  private final RdsRouteConfigRegistry routes;
  private final ScheduledExecutorService control;
  private final AdsClient.@Nullable Protocol adsProtocol;
  /** Subscribes each VHDS source to its on-demand names (an empty set: the base subscription). */
  private final Consumer<Map<ConfigSource, Set<String>>> subscribe;
  private final StatsScope stats;
  private final Duration onDemandTimeout;
  private final Map<String, VhdsRoute> byRoute = new HashMap<>();
  /** {@code http.<stat_prefix>.} of the first connection manager naming each route configuration. */
  private final Map<String, String> statPrefixes = new HashMap<>();
  /** The names subscribed on demand, per source. */
  private final Map<ConfigSource, Set<String>> onDemandNames = new HashMap<>();
  /** Requests waiting for a virtual host, by {@code <rc>/<host>}. */
  private final Map<String, Waiting> waiting = new HashMap<>();

  /** A route configuration with {@code vhds}: its last published RDS version and its VHDS virtual hosts. */
  private static final class VhdsRoute {
    final ConfigSource source;
    final VhdsStats stats;
    RouteConfiguration rds;
    /** By resource name, in arrival order. */
    Map<String, VirtualHost> virtualHosts = new LinkedHashMap<>();

    VhdsRoute(ConfigSource source, RouteConfiguration rds, VhdsStats stats) {
      this.source = source;
      this.rds = rds;
      this.stats = stats;
    }
  }

  private record VhdsStats(SubscriptionStats subscription, Counter configReload, Counter emptyUpdate) {}

  private record Waiting(ConfigSource source, ScheduledFuture<?> timer, List<Consumer<Boolean>> done) {}

  VhdsApplier(RdsRouteConfigRegistry routes, ScheduledExecutorService control, AdsClient.@Nullable Protocol adsProtocol,
      Consumer<Map<ConfigSource, Set<String>>> subscribe, StatsScope stats, Duration onDemandTimeout) {
    this.routes = routes;
    this.control = control;
    this.adsProtocol = adsProtocol;
    this.subscribe = subscribe;
    this.stats = stats;
    this.onDemandTimeout = onDemandTimeout;
  }

  /** The connection managers' {@code stat_prefix} for a route name (the first one naming it wins, as RDS). */
  void statPrefix(String routeName, String statPrefix) {
    statPrefixes.putIfAbsent(routeName, statPrefix);
  }

  /**
   * The configuration to publish for an RDS version: with {@code vhds}, merged with the VHDS
   * virtual hosts held (unless its source changed); otherwise {@code rds} itself.
   *
   * @throws ConfigException naming {@code vhds.config_source} when it is not a delta gRPC source
   */
  RouteConfiguration effective(RouteConfiguration rds) {
    if (!rds.hasVhds()) {
      return rds;
    }
    ConfigSource source = source(rds);
    VhdsRoute held = byRoute.get(rds.getName());
    return held == null || !held.source.equals(source) ? rds : VirtualHostMerge.merge(rds, held.virtualHosts.values());
  }

  /** {@code rds} (the RDS version, not merged) has been published: VHDS follows its {@code vhds}. */
  void published(RouteConfiguration rds) {
    String name = rds.getName();
    VhdsRoute held = byRoute.get(name);
    if (!rds.hasVhds()) {
      if (held != null) {
        drop(name);
      }
      return;
    }
    ConfigSource source = source(rds);
    if (held != null && held.source.equals(source)) {
      held.rds = rds;
      return;
    }
    if (held != null) {
      drop(name);
    }
    String prefix = statPrefixes.getOrDefault(name, "");
    StatsScope scope = stats.scope("http." + prefix + ".vhds." + name + ".");
    byRoute.put(name, new VhdsRoute(source, rds,
        new VhdsStats(new SubscriptionStats(scope), scope.counter("config_reload"), scope.counter("empty_update"))));
    pushNames();
  }

  /** The control plane removed route configuration {@code name} (RDS). */
  void removed(String name) {
    if (byRoute.containsKey(name)) {
      drop(name);
    }
  }

  private void drop(String name) {
    VhdsRoute r = byRoute.remove(name);
    String prefix = name + "/";
    Set<String> names = onDemandNames.getOrDefault(r.source, new HashSet<>());
    names.removeIf(n -> n.startsWith(prefix));
    for (String key : List.copyOf(waiting.keySet())) {
      if (key.startsWith(prefix)) {
        resume(key, false);
      }
    }
    pushNames();
  }

  /** The source key of {@code rds.vhds}, which must be delta gRPC (Envoy's requirement). */
  private ConfigSource source(RouteConfiguration rds) {
    if (!rds.getVhds().hasConfigSource()) {
      throw new ConfigException("vhds.config_source", "value is required");
    }
    ConfigSource key = XdsSources.key(rds.getVhds().getConfigSource(), "vhds.config_source");
    if (XdsSources.isAds(key)) {
      if (adsProtocol != AdsClient.Protocol.DELTA) {
        throw new ConfigException("vhds.config_source", "VHDS needs delta xDS, but the ADS stream is "
            + (adsProtocol == null ? "not configured (no ads_config)" : "state of the world (ads_config.api_type GRPC)"));
      }
    } else if (!key.hasApiConfigSource()) {
      throw new ConfigException("vhds.config_source", "VHDS needs a delta gRPC source (ads, or api_config_source DELTA_GRPC)");
    } else if (key.getApiConfigSource().getApiType() != ApiConfigSource.ApiType.DELTA_GRPC) {
      throw new ConfigException("vhds.config_source.api_config_source.api_type",
          "VHDS needs DELTA_GRPC, not " + key.getApiConfigSource().getApiType());
    }
    return key;
  }

  /** Every VHDS source with its on-demand names (sources no longer used are unsubscribed by {@link XdsSources}). */
  private void pushNames() {
    Map<ConfigSource, Set<String>> bySource = new HashMap<>();
    for (VhdsRoute r : byRoute.values()) {
      bySource.put(r.source, Set.copyOf(onDemandNames.getOrDefault(r.source, Set.of())));
    }
    subscribe.accept(bySource);
  }

  // ---- VirtualHost responses ----

  /** One VHDS response: merged into the route configurations, then the waiting requests resume. */
  List<ResourceError> apply(ResourceHandler.Update update) {
    List<ResourceError> errors = new ArrayList<>();
    Map<VhdsRoute, Map<String, VirtualHost>> added = new LinkedHashMap<>();
    for (Map.Entry<String, Message> e : update.resources().entrySet()) {
      VhdsRoute r = owner(e.getKey(), update.aliases().getOrDefault(e.getKey(), List.of()));
      if (r == null) {
        errors.add(new ResourceError(e.getKey(), "no route configuration with vhds owns it (VHDS resources are named"
            + " <route configuration name>/<host>)"));
        continue;
      }
      added.computeIfAbsent(r, k -> new LinkedHashMap<>()).put(e.getKey(), (VirtualHost) e.getValue());
    }
    Set<VhdsRoute> touched = new LinkedHashSet<>(added.keySet());
    for (VhdsRoute r : byRoute.values()) {
      if (update.removed().stream().anyMatch(r.virtualHosts::containsKey)) {
        touched.add(r);
      }
    }
    if (update.resources().isEmpty() && update.removed().isEmpty()) {
      byRoute.values().forEach(r -> r.stats.emptyUpdate().inc());
    }
    for (VhdsRoute r : touched) {
      apply(r, added.getOrDefault(r, Map.of()), update, errors);
    }
    resumeAnswered(update, errors);
    return errors;
  }

  private void apply(VhdsRoute r, Map<String, VirtualHost> added, ResourceHandler.Update update, List<ResourceError> errors) {
    r.stats.subscription().updateAttempt.inc();
    Map<String, VirtualHost> kept = new LinkedHashMap<>(r.virtualHosts);
    kept.keySet().removeAll(update.removed());
    Map<String, VirtualHost> next = new LinkedHashMap<>(kept);
    next.putAll(added);
    boolean rejected = false;
    try {
      routes.validate(VirtualHostMerge.merge(r.rds, next.values()));
    } catch (ConfigException all) {
      // Find the virtual hosts at fault, one at a time; the others apply.
      next = kept;
      for (Map.Entry<String, VirtualHost> e : added.entrySet()) {
        Map<String, VirtualHost> trial = new LinkedHashMap<>(next);
        trial.put(e.getKey(), e.getValue());
        try {
          routes.validate(VirtualHostMerge.merge(r.rds, trial.values()));
          next = trial;
        } catch (ConfigException one) {
          errors.add(new ResourceError(e.getKey(), one.getMessage()));
          rejected = true;
        }
      }
    }
    if (!next.equals(r.virtualHosts)) {
      try {
        routes.update(VirtualHostMerge.merge(r.rds, next.values()));
        r.virtualHosts = next;
        r.stats.configReload().inc();
      } catch (ConfigException e) {
        // Validated just above; a connection manager added meanwhile may still refuse it.
        added.keySet().forEach(n -> errors.add(new ResourceError(n, e.getMessage())));
        rejected = true;
      }
    }
    if (rejected) {
      r.stats.subscription().updateRejected.inc();
    } else {
      r.stats.subscription().accepted(update.version(), System.currentTimeMillis());
    }
  }

  /** The route configuration a resource belongs to: by its name's or an alias's prefix, else the only one. */
  private @Nullable VhdsRoute owner(String name, List<String> aliases) {
    List<String> names = new ArrayList<>(aliases.size() + 1);
    names.add(name);
    names.addAll(aliases);
    for (String n : names) {
      int slash = n.lastIndexOf('/');
      VhdsRoute r = slash > 0 ? byRoute.get(n.substring(0, slash)) : null;
      if (r != null) {
        return r;
      }
    }
    return byRoute.size() == 1 ? byRoute.values().iterator().next() : null;
  }

  /** Resumes the requests waiting for a name the response answered (its tables are published by now). */
  private void resumeAnswered(ResourceHandler.Update update, List<ResourceError> errors) {
    if (waiting.isEmpty()) {
      return;
    }
    Set<String> rejected = new HashSet<>();
    errors.forEach(e -> rejected.add(e.name()));
    Set<String> found = new HashSet<>();
    for (String name : update.resources().keySet()) {
      if (!rejected.contains(name)) {
        found.add(name);
        found.addAll(update.aliases().getOrDefault(name, List.of()));
      }
    }
    Set<String> answered = new HashSet<>(found);
    for (String name : update.resources().keySet()) {
      answered.add(name);
      answered.addAll(update.aliases().getOrDefault(name, List.of()));
    }
    for (String name : update.removed()) {
      answered.add(name);
      answered.addAll(update.aliases().getOrDefault(name, List.of()));
    }
    for (String name : answered) {
      if (waiting.containsKey(name)) {
        resume(name, found.contains(name));
      }
    }
  }

  private void resume(String name, boolean found) {
    Waiting w = waiting.remove(name);
    w.timer().cancel(false);
    if (!found) {
      Set<String> names = onDemandNames.get(w.source());
      if (names != null && names.remove(name)) {
        pushNames();
      }
    }
    log.debug("VHDS {}: {}", name, found ? "arrived" : "not found");
    for (Consumer<Boolean> done : w.done()) {
      try {
        done.accept(found);
      } catch (RuntimeException e) {
        log.error("resuming a request waiting for virtual host {} failed", name, e);
      }
    }
  }

  // ---- on demand ----

  /** Any thread (a worker on a request's miss path): the rest happens on the control thread. */
  @Override
  public void request(String routeConfigName, String host, Consumer<Boolean> done) {
    try {
      control.execute(() -> onDemand(routeConfigName, host, done));
    } catch (RejectedExecutionException e) {
      // Shutting down: the request goes on without a route.
      done.accept(false);
    }
  }

  private void onDemand(String routeConfigName, String host, Consumer<Boolean> done) {
    VhdsRoute r = byRoute.get(routeConfigName);
    if (r == null) {
      done.accept(false);
      return;
    }
    String name = routeConfigName + "/" + host;
    Waiting w = waiting.get(name);
    if (w == null) {
      w = new Waiting(r.source, control.schedule(() -> timedOut(name), onDemandTimeout.toMillis(), TimeUnit.MILLISECONDS),
          new ArrayList<>());
      waiting.put(name, w);
      Set<String> names = onDemandNames.computeIfAbsent(r.source, s -> new HashSet<>());
      if (!names.add(name)) {
        // Subscribed before, yet the table lacks the host (its virtual host was removed since):
        // subscribing again asks the server anew.
        names.remove(name);
        pushNames();
        names.add(name);
      }
      pushNames();
    }
    w.done().add(done);
  }

  private void timedOut(String name) {
    if (waiting.containsKey(name)) {
      log.debug("VHDS {}: no answer within {}", name, onDemandTimeout);
      resume(name, false);
    }
  }
}
