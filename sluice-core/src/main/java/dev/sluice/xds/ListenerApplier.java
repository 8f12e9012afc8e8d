package dev.sluice.xds;

import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import dev.sluice.api.config.ConfigException;
import dev.sluice.extensions.filters.network.http_connection_manager.ListenerConnectionManager;
import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.http.RdsRouteConfigRegistry;
import dev.sluice.listener.ListenerManager;
import dev.sluice.xds.ResourceHandler.ResourceError;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import java.time.Duration;
import java.util.ArrayList;
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
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LDS and RDS (control thread). A new or changed listener whose connection managers use RDS warms
 * until every route configuration it names has arrived (or the RDS {@code initial_fetch_timeout}
 * passed): only then is it handed to the listener manager, which binds it and drains the previous
 * version, so the old version serves until the new one is complete (Envoy's listener warming).
 * A listener whose TLS contexts name SDS secrets also warms until each has arrived or passed its
 * {@code initial_fetch_timeout} ({@link SecretWait}).
 * The RDS subscription follows the listeners: the names of every active and warming listener.
 * A connection manager with {@code scoped_routes.scoped_rds} warms its listener until its SRDS
 * source has answered and the route configuration of every scope has arrived (Envoy's SRDS init);
 * the scopes' route names join the RDS subscription of {@code scoped_routes.rds_config_source}.
 *
 * <p>A route configuration that names a cluster still warming for its first endpoints (one the
 * same control-plane push added, whose EDS answer is still on its way) is validated and ACKed but
 * held back, the previous version serving, until those clusters are active: published at once, its
 * routes would answer 503 (no cluster) for that moment. Envoy publishes it at once; a control plane
 * that adds a cluster and moves a route to it in one push then sees no failed requests here.
 */
final class ListenerApplier {
  private static final Logger log = LoggerFactory.getLogger("sluice.xds");
  /** Envoy's default {@code initial_fetch_timeout}. */
  static final Duration DEFAULT_INITIAL_FETCH_TIMEOUT = Duration.ofSeconds(15);

  private final ListenerManager listeners;
  private final RdsRouteConfigRegistry routes;
  private final ScheduledExecutorService control;
  private final Consumer<Map<ConfigSource, Set<String>>> rdsNames;
  private final Consumer<Set<ConfigSource>> srdsSources;
  private final ScopedRoutesApplier scoped;
  /** VHDS: the virtual hosts merged into route configurations with {@code vhds}. */
  private final VhdsApplier vhds;
  private final Map<String, Listener> active = new LinkedHashMap<>();
  private final Map<String, Warming> warming = new LinkedHashMap<>();
  private final List<Listener> staticListeners;
  private final List<Runnable> onChange = new ArrayList<>();

  private final StatsScope stats;
  /** {@code http.<stat_prefix>.rds.<route_config_name>.} per route name, from the first HCM naming it. */
  private final Map<String, RdsStats> rdsStats = new HashMap<>();

  /** Envoy's RDS subscription stats, plus {@code config_reload} (the route table actually changed). */
  private record RdsStats(SubscriptionStats subscription, Counter configReload) {}

  /**
   * A listener waiting for its route configurations (until the RDS {@code initial_fetch_timeout})
   * and for the SDS secrets its TLS contexts name (each until its own timeout).
   */
  private static final class Warming {
    final Listener config;
    final Set<String> routeNames;
    final List<ScopedRoutesApplier.ScopedUse> scopedUses;
    final @Nullable ScheduledFuture<?> timeout;
    final @Nullable SecretWait secrets;
    boolean routesTimedOut;

    Warming(Listener config, Set<String> routeNames, List<ScopedRoutesApplier.ScopedUse> scopedUses,
        @Nullable ScheduledFuture<?> timeout, @Nullable SecretWait secrets) {
      this.config = config;
      this.routeNames = routeNames;
      this.scopedUses = scopedUses;
      this.timeout = timeout;
      this.secrets = secrets;
    }
  }

  /** Where SDS secrets come from, for warming on them; null: listeners never wait for secrets. */
  private @Nullable SdsSecretProvider secrets;

  /** True for a cluster name that is warming with no version serving. */
  private final Predicate<String> clusterWarming;
  /** Route configurations held back, by name, with the warming clusters they still wait for. */
  private final Map<String, Held> held = new LinkedHashMap<>();

  private record Held(RouteConfiguration config, Set<String> waitingFor) {}

  ListenerApplier(ListenerManager listeners, RdsRouteConfigRegistry routes, List<Listener> staticListeners,
      ScheduledExecutorService control, Consumer<Map<ConfigSource, Set<String>>> rdsNames,
      Consumer<Set<ConfigSource>> srdsSources, StatsScope stats, Predicate<String> clusterWarming, VhdsApplier vhds) {
    this.srdsSources = srdsSources;
    this.vhds = vhds;
    this.scoped = new ScopedRoutesApplier(routes.scopedRoutes(), stats, n -> routes.config(n) != null);
    this.stats = stats;
    this.clusterWarming = clusterWarming;
    this.listeners = listeners;
    this.routes = routes;
    this.staticListeners = List.copyOf(staticListeners);
    this.control = control;
    this.rdsNames = rdsNames;
    this.staticListeners.forEach(this::registerRdsStats);
    this.staticListeners.forEach(l -> registerScopedStats(scopedUses(l)));
  }

  /** Creates the RDS stats of each route name the listener's connection managers use over RDS. */
  private void registerRdsStats(Listener listener) {
    // One that does not decode is reported by routeNames().
    for (ListenerConnectionManager m : ListenerConnectionManager.decodable(listener)) {
      if (m.config().hasRds()) {
        registerRdsStats(m.config().getStatPrefix(), m.config().getRds().getRouteConfigName());
      }
    }
  }

  private void registerRdsStats(String statPrefix, String routeName) {
    vhds.statPrefix(routeName, statPrefix);
    rdsStats.computeIfAbsent(routeName, n -> {
      StatsScope scope = stats.scope("http." + statPrefix + ".rds." + n + ".");
      return new RdsStats(new SubscriptionStats(scope), scope.counter("config_reload"));
    });
  }

  /** The SRDS stats of the listener's connection managers, and the RDS stats of their scopes' routes. */
  private void registerScopedStats(List<ScopedRoutesApplier.ScopedUse> uses) {
    for (ScopedRoutesApplier.ScopedUse use : uses) {
      scoped.registerStats(use);
      scoped.routeNames(use).forEach(n -> registerRdsStats(use.statPrefix(), n));
    }
  }

  /** Listeners naming SDS secrets warm until those arrive (or time out); call before the first LDS response. */
  void warmOnSecrets(SdsSecretProvider provider) {
    this.secrets = provider;
  }

  /** Runs after each change of the warming set (the server's init watches it). */
  void onChange(Runnable r) {
    onChange.add(r);
  }

  boolean warming() {
    return !warming.isEmpty();
  }

  List<ResourceError> applyListeners(ResourceHandler.Update update) {
    List<ResourceError> errors = new ArrayList<>();
    for (Map.Entry<String, Message> e : update.resources().entrySet()) {
      String name = e.getKey();
      Listener config = (Listener) e.getValue();
      Listener current = active.get(name);
      Warming w = warming.get(name);
      if (config.equals(current) && w == null || w != null && w.config.equals(config)) {
        continue;
      }
      Set<String> names;
      List<ScopedRoutesApplier.ScopedUse> scopedUses;
      try {
        names = routeNames(config);
        scopedUses = ScopedRoutesApplier.uses(config);
      } catch (ConfigException ex) {
        errors.add(new ResourceError(name, ex.getMessage()));
        continue;
      }
      Set<String> missing = missingRoutes(names, scopedUses);
      List<SdsSecretConfig> secretRefs = SdsReferences.of(config);
      boolean secretsMissing = secrets != null && secretRefs.stream().anyMatch(r -> !secrets.ready(r.getName()));
      if (!missing.isEmpty() || secretsMissing) {
        // As Envoy, a listener is built when it arrives, so one that cannot be is NACKed now
        // rather than accepted and then refused when its routes come.
        try {
          listeners.validate(config);
        } catch (ConfigException ex) {
          errors.add(new ResourceError(name, ex.getMessage()));
          continue;
        }
      }
      // The new wait subscribes before the old one lets go, so a secret both need is not dropped.
      SecretWait secretWait = secretsMissing ? SecretWait.start(secrets, secretRefs, () -> secretsReady(name)) : null;
      cancelWarming(name);
      registerRdsStats(config);
      registerScopedStats(scopedUses);
      if (missing.isEmpty() && secretWait == null) {
        add(config, errors);
      } else {
        Duration timeout = missing.isEmpty() ? Duration.ZERO : rdsTimeout(config);
        @Nullable ScheduledFuture<?> timer = timeout.isZero() ? null
            : control.schedule(() -> warmingTimedOut(name), timeout.toMillis(), TimeUnit.MILLISECONDS);
        warming.put(name, new Warming(config, names, scopedUses, timer, secretWait));
        log.debug("listener {} warming for routes {} and secrets {}", name, missing,
            secretWait == null ? List.of() : secretWait.missing());
      }
    }
    for (String name : update.removed()) {
      cancelWarming(name);
      if (active.remove(name) != null) {
        listeners.remove(name);
      }
    }
    publishRdsNames();
    changed();
    return errors;
  }

  /**
   * The route configurations still missing for a listener: its RDS names, and for each SRDS use, a
   * marker until its source has answered, then its scopes' route names.
   */
  private Set<String> missingRoutes(Set<String> routeNames, List<ScopedRoutesApplier.ScopedUse> scopedUses) {
    Set<String> missing = new TreeSet<>(routeNames);
    for (ScopedRoutesApplier.ScopedUse use : scopedUses) {
      if (scoped.scopes(use.srdsSource()) == null) {
        missing.add("scoped_rds:" + use.name());
      } else {
        missing.addAll(scoped.routeNames(use));
      }
    }
    missing.removeIf(n -> routes.config(n) != null);
    return missing;
  }

  /** One SRDS response from {@code source}: applied to the connection managers on that source. */
  List<ResourceError> applyScopedRoutes(ConfigSource source, ResourceHandler.Update update) {
    List<ScopedRoutesApplier.ScopedUse> uses = scopedUsesOn(source);
    List<ResourceError> errors = scoped.apply(source, update, uses);
    registerScopedStats(uses);
    publishRdsNames();
    finishRouteWarming();
    return errors;
  }

  /** The SRDS uses (one per {@code scoped_routes.name}) of the listeners' connection managers on {@code source}. */
  private List<ScopedRoutesApplier.ScopedUse> scopedUsesOn(ConfigSource source) {
    List<ScopedRoutesApplier.ScopedUse> uses = new ArrayList<>();
    for (Listener l : allListeners()) {
      for (ScopedRoutesApplier.ScopedUse use : scopedUses(l)) {
        if (use.srdsSource().equals(source) && uses.stream().noneMatch(u -> u.name().equals(use.name()))) {
          uses.add(use);
        }
      }
    }
    return uses;
  }

  /** The SRDS uses of a listener already accepted (its connection managers decoded before). */
  private static List<ScopedRoutesApplier.ScopedUse> scopedUses(Listener listener) {
    try {
      return ScopedRoutesApplier.uses(listener);
    } catch (ConfigException e) {
      return List.of();
    }
  }

  List<ResourceError> applyRoutes(ResourceHandler.Update update) {
    List<ResourceError> errors = new ArrayList<>();
    for (Map.Entry<String, Message> e : update.resources().entrySet()) {
      RdsStats st = rdsStats.get(e.getKey());
      if (st != null) {
        st.subscription().updateAttempt.inc();
      }
      RouteConfiguration config = (RouteConfiguration) e.getValue();
      held.remove(e.getKey());
      Set<String> waitingFor = new HashSet<>(RouteClusters.of(config));
      waitingFor.removeIf(clusterWarming.negate());
      try {
        if (waitingFor.isEmpty()) {
          publish(config);
        } else {
          routes.validate(vhds.effective(config));
          held.put(e.getKey(), new Held(config, waitingFor));
          log.debug("route configuration {} held until clusters {} warm", e.getKey(), waitingFor);
        }
        if (st != null) {
          st.subscription().accepted(update.version(), System.currentTimeMillis());
        }
      } catch (ConfigException ex) {
        errors.add(new ResourceError(e.getKey(), ex.getMessage()));
        if (st != null) {
          st.subscription().updateRejected.inc();
        }
      }
    }
    for (String name : update.removed()) {
      RdsStats st = rdsStats.get(name);
      if (st != null) {
        st.subscription().updateEmpty.inc();
      }
    }
    update.removed().forEach(held::remove);
    update.removed().forEach(routes::remove);
    update.removed().forEach(vhds::removed);
    scoped.routesChanged(this::scopedUsesOn);
    finishRouteWarming();
    return errors;
  }

  /**
   * Publishes a route configuration (with {@code vhds}: merged with its VHDS virtual hosts),
   * counting {@code config_reload} when its table changed.
   */
  private void publish(RouteConfiguration config) {
    RouteConfiguration effective = vhds.effective(config);
    boolean changed = !effective.equals(routes.config(config.getName()));
    routes.update(effective);
    vhds.published(config);
    RdsStats st = rdsStats.get(config.getName());
    if (st != null && changed) {
      st.configReload().inc();
    }
  }

  /** Cluster {@code name} is active now: held route configurations waiting only for it are published. */
  void clusterActive(String name) {
    if (held.isEmpty()) {
      return;
    }
    boolean released = false;
    for (Held h : held.values()) {
      released |= h.waitingFor().remove(name) && h.waitingFor().isEmpty();
    }
    if (released) {
      publishReleased();
    }
  }

  /** After a CDS change (a warming cluster may have been removed): re-checks what held routes wait for. */
  void clustersChanged() {
    if (held.isEmpty()) {
      return;
    }
    held.values().forEach(h -> h.waitingFor().removeIf(clusterWarming.negate()));
    publishReleased();
  }

  private void publishReleased() {
    for (Held h : List.copyOf(held.values())) {
      if (!h.waitingFor().isEmpty()) {
        continue;
      }
      held.remove(h.config().getName());
      try {
        publish(h.config());
      } catch (ConfigException ex) {
        // It compiled when it arrived; a connection manager added since may refuse it.
        log.warn("held route configuration {} not published: {}", h.config().getName(), ex.getMessage());
      }
    }
    scoped.routesChanged(this::scopedUsesOn);
    finishRouteWarming();
  }

  /** Listeners whose route configurations have all been published (and secrets arrived) finish warming. */
  private void finishRouteWarming() {
    for (Warming w : List.copyOf(warming.values())) {
      if (warmed(w)) {
        finishWarming(w.config.getName(), new ArrayList<>());
      }
    }
    changed();
  }

  private boolean warmed(Warming w) {
    return (w.routesTimedOut || missingRoutes(w.routeNames, w.scopedUses).isEmpty())
        && (w.secrets == null || w.secrets.ready());
  }

  /** The SDS secrets of the listener warming as {@code name} are all there (or timed out). */
  private void secretsReady(String name) {
    Warming w = warming.get(name);
    if (w != null && warmed(w)) {
      finishWarming(name, new ArrayList<>());
      changed();
    }
  }

  /** Ends the warming of every listener now (the server's init timed out waiting). */
  void finishAllWarming() {
    for (String name : List.copyOf(warming.keySet())) {
      finishWarming(name, new ArrayList<>());
    }
    changed();
  }

  /** The dynamic listeners, active then warming (for {@code /config_dump}). */
  Map<String, Listener> activeListeners() {
    return Map.copyOf(active);
  }

  Map<String, Listener> warmingListeners() {
    Map<String, Listener> m = new HashMap<>();
    warming.forEach((n, w) -> m.put(n, w.config));
    return m;
  }

  private void warmingTimedOut(String name) {
    Warming w = warming.get(name);
    if (w != null) {
      log.warn("listener {}: routes not received within initial_fetch_timeout; going on without them", name);
      w.routesTimedOut = true;
      if (warmed(w)) {
        finishWarming(name, new ArrayList<>());
        changed();
      }
    }
  }

  private void finishWarming(String name, List<ResourceError> errors) {
    Warming w = warming.remove(name);
    if (w != null) {
      if (w.timeout != null) {
        w.timeout.cancel(false);
      }
      add(w.config, errors);
      errors.forEach(e -> log.warn("warmed listener rejected: {}", e));
      // After the add: the listener's TLS contexts now hold their own subscriptions.
      if (w.secrets != null) {
        w.secrets.close();
      }
    }
  }

  private void cancelWarming(String name) {
    Warming w = warming.remove(name);
    if (w != null) {
      if (w.timeout != null) {
        w.timeout.cancel(false);
      }
      if (w.secrets != null) {
        w.secrets.close();
      }
    }
  }

  private void add(Listener config, List<ResourceError> errors) {
    try {
      listeners.addOrUpdate(config);
      active.put(config.getName(), config);
    } catch (ConfigException ex) {
      errors.add(new ResourceError(config.getName(), ex.getMessage()));
    }
  }

  private void publishRdsNames() {
    srdsSources.accept(neededScopedSources());
    rdsNames.accept(neededRouteNames());
  }

  private List<Listener> allListeners() {
    List<Listener> all = new ArrayList<>(staticListeners);
    all.addAll(active.values());
    warming.values().forEach(w -> all.add(w.config));
    return all;
  }

  /**
   * The route configurations the static, active and warming listeners name, by source: their RDS
   * names, and the route names of the scopes their SRDS connection managers hold.
   */
  Map<ConfigSource, Set<String>> neededRouteNames() {
    Map<ConfigSource, Set<String>> names = new HashMap<>();
    for (Listener l : allListeners()) {
      routeSources(l).forEach((name, source) -> names.computeIfAbsent(source, k -> new TreeSet<>()).add(name));
      for (ScopedRoutesApplier.ScopedUse use : scopedUses(l)) {
        Set<String> scopeRoutes = scoped.routeNames(use);
        if (!scopeRoutes.isEmpty()) {
          names.computeIfAbsent(use.rdsSource(), k -> new TreeSet<>()).addAll(scopeRoutes);
        }
      }
    }
    return names;
  }

  /** The {@code scoped_routes.name} of each SRDS connection manager seen, with its source (for {@code /config_dump}; any thread). */
  Map<String, ConfigSource> scopedRoutesSources() {
    return scoped.sourcesByName();
  }

  /** The accepted scopes of an SRDS source, or null before its first response (any thread). */
  @Nullable Map<String, io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration> scopes(ConfigSource source) {
    return scoped.scopes(source);
  }

  /** The SRDS sources the static, active and warming listeners use. */
  Set<ConfigSource> neededScopedSources() {
    Set<ConfigSource> sources = new java.util.LinkedHashSet<>();
    allListeners().forEach(l -> scopedUses(l).forEach(u -> sources.add(u.srdsSource())));
    return sources;
  }

  /** Each RDS {@code route_config_name} of the listener with its source ({@link XdsSources#key}). */
  static Map<String, ConfigSource> routeSources(Listener listener) {
    Map<String, ConfigSource> sources = new LinkedHashMap<>();
    for (ListenerConnectionManager m : ListenerConnectionManager.of(listener)) {
      HttpConnectionManager hcm = m.config();
      if (hcm.hasRds()) {
        sources.putIfAbsent(hcm.getRds().getRouteConfigName(),
            XdsSources.key(hcm.getRds().getConfigSource(), m.path() + ".rds.config_source"));
      }
    }
    return sources;
  }

  /** Every RDS {@code route_config_name} in the listener's connection managers. */
  static Set<String> routeNames(Listener listener) {
    return new TreeSet<>(routeSources(listener).keySet());
  }

  /**
   * The longest RDS (and SRDS) {@code config_source.initial_fetch_timeout} of the listener (0
   * disables).
   */
  private static Duration rdsTimeout(Listener listener) {
    Duration max = Duration.ZERO;
    boolean any = false;
    // One that does not decode was reported by routeNames().
    for (ListenerConnectionManager m : ListenerConnectionManager.decodable(listener)) {
      HttpConnectionManager hcm = m.config();
      List<ConfigSource> sources = new ArrayList<>();
      if (hcm.hasRds()) {
        sources.add(hcm.getRds().getConfigSource());
      } else if (hcm.hasScopedRoutes() && hcm.getScopedRoutes().hasScopedRds()) {
        sources.add(hcm.getScopedRoutes().getScopedRds().getScopedRdsConfigSource());
        sources.add(hcm.getScopedRoutes().getRdsConfigSource());
      }
      for (ConfigSource source : sources) {
        any = true;
        Duration t = source.hasInitialFetchTimeout()
            ? Duration.ofMillis(Durations.toMillis(source.getInitialFetchTimeout())) : DEFAULT_INITIAL_FETCH_TIMEOUT;
        if (t.isZero()) {
          return Duration.ZERO;
        }
        max = t.compareTo(max) > 0 ? t : max;
      }
    }
    return any ? max : Duration.ZERO;
  }

  private void changed() {
    onChange.forEach(Runnable::run);
  }
}
