package dev.sluice.server;

import com.google.protobuf.util.Durations;
import dev.sluice.accesslog.AccessLogWriters;
import dev.sluice.admin.AdminHandler;
import dev.sluice.admin.AdminResponse;
import dev.sluice.admin.AdminServer;
import dev.sluice.admin.ConfigDumpHandler;
import dev.sluice.admin.HealthCheckFlag;
import dev.sluice.admin.LoggingHandler;
import dev.sluice.admin.RuntimeHandler;
import dev.sluice.admin.ServerCommandHandlers;
import dev.sluice.admin.ServerInfoHandlers;
import dev.sluice.admin.ServerLifecycle;
import dev.sluice.admin.StatsHandlers;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.config.ConfigException;
import dev.sluice.config.ProtoTypes;
import dev.sluice.config.ServiceLoaderExtensionRegistry;
import dev.sluice.http.RdsRouteConfigRegistry;
import dev.sluice.listener.ActiveListener;
import dev.sluice.xds.DynamicResources;
import dev.sluice.api.FactoryContext;
import dev.sluice.listener.DownstreamTransportSockets;
import dev.sluice.listener.DrainDecision;
import dev.sluice.tls.SecretProvider;
import dev.sluice.xds.SdsSecretProvider;
import dev.sluice.xds.StaticListenerSecrets;
import dev.sluice.tls.TlsDownstreamTransportSockets;
import dev.sluice.listener.GlobalConnectionLimit;
import dev.sluice.listener.ListenerManager;
import dev.sluice.listener.Workers;
import dev.sluice.stats.ServerState;
import dev.sluice.stats.ServerStats;
import dev.sluice.stats.StatsStore;
import dev.sluice.upstream.ClusterManagerImpl;
import dev.sluice.upstream.pool.ConnectionPools;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;

/**
 * One Sluice server, assembled as Envoy's: stats, the control thread, the extension registry,
 * workers, the cluster manager, connection pools, listeners and the admin API. {@link #start()}
 * builds and binds everything, answers {@code /ready} with 503 while static clusters warm, then
 * adds the static listeners and goes LIVE; {@link #run()} also waits for SIGTERM or
 * {@code /quitquitquit}, drains and returns the exit code. {@link #validate()} compiles the same
 * configuration without binding anything.
 */
public final class Server implements ServerLifecycle, AutoCloseable {
  private static final Logger log = Logging.logger("main");
  /** Envoy's default {@code stats_flush_interval}. */
  private static final Duration DEFAULT_STATS_FLUSH = Duration.ofSeconds(5);
  /** How often a shutdown drain checks whether any connection is left. */
  private static final long DRAIN_POLL_MS = 50;

  private final Options options;
  private final Bootstrap bootstrap;
  private final DownstreamTransportSockets transportSockets;
  private final SecretProvider secrets;
  private final HealthCheckFlag health = new HealthCheckFlag();
  private final CompletableFuture<Void> live = new CompletableFuture<>();
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private volatile ServerState initState = ServerState.PRE_INITIALIZING;
  private volatile boolean shuttingDown;

  // Built by start(); null before, and for the parts start() did not reach when it failed.
  private @Nullable StatsStore store;
  private @Nullable ServerStats serverStats;
  private @Nullable ScheduledExecutorService control;
  private @Nullable Workers workers;
  private @Nullable ClusterManagerImpl clusterManager;
  private @Nullable ConnectionPools pools;
  private @Nullable ListenerManager listenerManager;
  private @Nullable AdminServer admin;
  private volatile @Nullable DynamicResources dynamicResources;
  private long startNanos;
  private boolean started;

  /**
   * A server whose TLS secrets are the bootstrap's {@code static_resources.secrets}.
   *
   * @throws ConfigException naming {@code static_resources.secrets[i]...} for an unusable secret
   */
  public Server(Options options, Bootstrap bootstrap) {
    this(options, bootstrap, staticSecrets(bootstrap));
  }

  private Server(Options options, Bootstrap bootstrap, SecretProvider secrets) {
    this(options, bootstrap, new TlsDownstreamTransportSockets(secrets, FactoryContext::listenerScope), secrets);
  }

  /** @param transportSockets compiles filter chains' {@code transport_socket} (TLS) */
  public Server(Options options, Bootstrap bootstrap, DownstreamTransportSockets transportSockets, SecretProvider secrets) {
    this.options = options;
    this.bootstrap = bootstrap;
    this.transportSockets = transportSockets;
    this.secrets = secrets;
  }

  /** The bootstrap's static secrets, and SDS for the contexts that name an {@code sds_config}. */
  private static SecretProvider staticSecrets(Bootstrap bootstrap) {
    return new SdsSecretProvider(bootstrap.getStaticResources().getSecretsList(), bootstrap.getNode(), Clock.systemUTC());
  }

  /**
   * Compiles everything the bootstrap declares without binding a socket; returns every error as
   * one line {@code field.path: message} (empty when the config is valid).
   */
  public List<String> validate() {
    return new ConfigValidation(options, bootstrap, transportSockets, secrets).run();
  }

  /**
   * Starts the server, then blocks until SIGTERM or {@code /quitquitquit} has drained it; returns
   * the process exit code.
   *
   * @throws ConfigException when start-up fails on the configuration (nothing is left running)
   */
  public int run() {
    start();
    Runnable restoreSignals = ShutdownSignals.install(this::shutdown, exit::join);
    try {
      return exit.join();
    } finally {
      restoreSignals.run();
    }
  }

  /**
   * Builds and starts everything; returns once the admin API answers (before the server is LIVE:
   * see {@link #live()}). Start-up failures after this returns (a listener that cannot bind)
   * complete {@link #exitCode()} with 1.
   *
   * @throws ConfigException naming the field when the configuration cannot be used
   */
  public synchronized Server start() {
    if (started) {
      throw new IllegalStateException("server already started");
    }
    started = true;
    startNanos = System.nanoTime();
    Instant startTime = Instant.now();
    try {
      build(startTime);
    } catch (RuntimeException | Error e) {
      teardown();
      exit.complete(1);
      throw e;
    }
    return this;
  }

  private void build(Instant startTime) {
    StatsStore stats = phase("stats", () -> statsStore(bootstrap));
    store = stats;
    ServerStats ss = new ServerStats(stats);
    serverStats = ss;
    ss.setState(ServerState.PRE_INITIALIZING);
    ss.concurrency.set(options.concurrency());
    ss.version.set(versionNumber(ServerInfoFromOptions.versionString()));
    ScheduledExecutorService ctl = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("sluice-main").daemon(false).factory());
    control = ctl;
    AccessLogWriters.setFlushInterval(options.fileFlushInterval());
    ServiceLoaderExtensionRegistry registry = phase("extension registry",
        () -> ServiceLoaderExtensionRegistry.installed(options.rejectUnknownDynamicFields()));
    GlobalConnectionLimit connectionLimit = GlobalConnectionLimit.fromBootstrap(bootstrap);
    InactiveExtensions inactive = InactiveExtensions.of(bootstrap, options.allowUnknownStaticFields());
    inactive.logOnce();
    stats.gauge(InactiveExtensions.GAUGE).set(inactive.features().size());
    InetSocketAddress adminAddress = AdminAddress.of(bootstrap.getAdmin());
    checkListenerNames(bootstrap.getStaticResources().getListenersList());
    Workers w = phase("workers", () -> new Workers(options.concurrency()));
    workers = w;
    ClusterManagerImpl cm = phase("cluster manager", () -> {
      try {
        return new ClusterManagerImpl(bootstrap.getStaticResources().getClustersList(), stats,
            options.concurrency(), ctl);
      } catch (ConfigException e) {
        throw e.under("static_resources");
      }
    });
    clusterManager = cm;
    cm.removeAfter(then -> w.afterCurrentTasks(then, ctl));
    cm.useSecrets(secrets);
    if (secrets instanceof SdsSecretProvider sds) {
      sds.start(cm, ctl, stats);
    }
    ConnectionPools cp = new ConnectionPools(options.concurrency(), cm, secrets);
    pools = cp;
    RdsRouteConfigRegistry routeConfigs = new RdsRouteConfigRegistry();
    ServerContext context = ServerContext.root(stats, cm, registry, cp, routeConfigs, options.concurrency(),
        bootstrap.getNode(), ctl, health);
    ListenerManager lm = new ListenerManager(w, stats, context::forListener, transportSockets,
        connectionLimit, ctl, options.drainTime(), drainStrategy(options.drainStrategy()));
    listenerManager = lm;
    if (adminAddress != null) {
      AccessLogger adminLog = adminAccessLog(bootstrap, context);
      admin = phase("admin", () -> startAdmin(adminAddress, stats, cm, lm, startTime, adminLog));
    } else {
      log.info("no admin address given: the admin API is off");
    }
    initState = ServerState.INITIALIZING;
    ss.setState(ServerState.of(initState, health.failed()));
    long flushMs = bootstrap.hasStatsFlushInterval()
        ? Durations.toMillis(bootstrap.getStatsFlushInterval()) : DEFAULT_STATS_FLUSH.toMillis();
    ctl.scheduleAtFixedRate(() -> updateServerStats(startTime), 1, 1, TimeUnit.SECONDS);
    ctl.scheduleAtFixedRate(stats::mergeHistograms, flushMs, flushMs, TimeUnit.MILLISECONDS);
    long clustersStart = System.nanoTime();
    CompletableFuture<Void> dynamicInit = CompletableFuture.completedFuture(null);
    if (bootstrap.hasDynamicResources()) {
      DynamicResources.check(bootstrap);
      // On the control thread, after the static clusters' start (their hosts) queued by the
      // cluster manager: the ADS stream, whose first CDS and LDS round gates LIVE.
      dynamicInit = CompletableFuture.supplyAsync(() -> {
        DynamicResources xds = DynamicResources.create(bootstrap, cm, lm, routeConfigs, stats, ctl);
        dynamicResources = xds;
        if (secrets instanceof SdsSecretProvider sds) {
          sds.useAds(xds.client());
          xds.warmOnSecrets(sds);
        }
        return xds.start();
      }, ctl).thenCompose(f -> f);
    }
    // The SDS secrets the static listeners name (none without SDS): subscribed now, on the
    // control thread, and held until those listeners exist.
    CompletableFuture<@Nullable StaticListenerSecrets> listenerSecrets = secrets instanceof SdsSecretProvider sds
        ? CompletableFuture.supplyAsync(() -> StaticListenerSecrets.await(sds, bootstrap.getStaticResources().getListenersList()), ctl)
        : CompletableFuture.completedFuture(null);
    CompletableFuture<Void> secretsReady = listenerSecrets.thenCompose(held -> held == null ? CompletableFuture.completedFuture(null) : held.ready());
    // Envoy's init manager: static clusters warm (DNS answered), the first CDS/LDS round is
    // applied and the static listeners' secrets are there before those listeners are added and
    // the server goes LIVE.
    CompletableFuture.allOf(cm.initialized(), dynamicInit, secretsReady).whenCompleteAsync((ok, error) -> {
      if (error != null) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
            ? error.getCause() : error;
        log.error("start-up failed: {}", cause.getMessage());
        live.completeExceptionally(cause);
        finish(1);
        return;
      }
      log.debug("clusters and dynamic resources initialized in {} ms", millisSince(clustersStart));
      goLive(lm, ss);
      StaticListenerSecrets held = listenerSecrets.join();
      if (held != null) {
        held.close();
      }
    }, ctl);
  }

  /** On the control thread once static clusters are warm: listeners, workers, LIVE. */
  private void goLive(ListenerManager lm, ServerStats ss) {
    if (shuttingDown) {
      return;
    }
    long t = System.nanoTime();
    List<Listener> listeners = bootstrap.getStaticResources().getListenersList();
    for (int i = 0; i < listeners.size(); i++) {
      try {
        lm.addOrUpdate(listeners.get(i));
      } catch (ConfigException e) {
        ConfigException error = e.under("static_resources.listeners[" + i + "]");
        log.error("start-up failed: {}", error.getMessage());
        live.completeExceptionally(error);
        finish(1);
        return;
      }
    }
    log.debug("listeners added in {} ms", millisSince(t));
    lm.startWorkers();
    initState = ServerState.LIVE;
    ss.setState(ServerState.of(initState, health.failed()));
    long total = millisSince(startNanos);
    ss.initializationTimeMs.set(total);
    log.info("sluice ready in {} ms", total);
    live.complete(null);
  }

  /** {@code admin.access_log}, compiled as any access log. */
  static AccessLogger adminAccessLog(Bootstrap bootstrap, FactoryContext context) {
    try {
      return context.accessLogger(bootstrap.getAdmin().getAccessLogList());
    } catch (ConfigException e) {
      throw e.under("admin");
    }
  }

  private AdminServer startAdmin(InetSocketAddress address, StatsStore stats, ClusterManagerImpl cm,
      ListenerManager lm, Instant startTime, AccessLogger accessLog) {
    AdminServer a = new AdminServer(address);
    a.setAccessLogger(accessLog);
    new StatsHandlers(stats, bootstrap.getStatsFlushOnAdmin()).register(a);
    new ServerInfoHandlers(new ServerInfoFromOptions(options, bootstrap.getNode(), startTime,
        () -> initState), health).register(a);
    new ServerCommandHandlers(this).register(a);
    RuntimeLayers runtime = RuntimeLayers.of(bootstrap.getLayeredRuntime());
    new RuntimeHandler(() -> runtime).register(a);
    new LoggingHandler(new LoggingLevels()).register(a);
    ConfigDumpHandler configDump = new ConfigDumpHandler(() -> ProtoTypes.get().typeRegistry()); // all types: loaded at the first dump
    new ConfigDumps(bootstrap, cm, lm, startTime, () -> dynamicResources,
        secrets instanceof SdsSecretProvider sds ? sds : null).register(configDump);
    configDump.register(a);
    Set<String> staticClusters = bootstrap.getStaticResources().getClustersList().stream()
        .map(io.envoyproxy.envoy.config.cluster.v3.Cluster::getName).collect(Collectors.toSet());
    new ClustersHandler(cm, staticClusters).register(a);
    new ListenersHandler(lm).register(a);
    a.register("/reopen_logs", "reopen access logs", true, AdminHandler.sync(r -> {
      AccessLogWriters.reopenAll();
      return AdminResponse.ok("OK\n");
    }));
    try {
      a.start();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding the admin listener", e);
    } catch (Exception e) {
      // Netty's sync() rethrows the bind failure (an IOException) without declaring it.
      a.close();
      throw new ConfigException("admin.address", "cannot bind " + address + ": " + e.getMessage(), e);
    }
    return a;
  }

  // ---- lifecycle ----

  /** {@code /quitquitquit} and SIGTERM: drain for {@code --drain-time-s}, then exit 0. */
  @Override
  public void shutdown() {
    beginShutdown(options.drainTime());
  }

  /**
   * {@code /drain_listeners}: {@code graceful} drains the listeners' connections (inbound ones only
   * with {@code inboundonly}) for the drain time while they still accept, then stops them accepting;
   * otherwise they stop accepting at once. The server does not exit either way.
   */
  @Override
  public CompletableFuture<Void> drainListeners(boolean inboundOnly, boolean graceful, boolean skipExit) {
    ScheduledExecutorService ctl = control;
    ListenerManager lm = listenerManager;
    if (ctl == null || lm == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("server not started"));
    }
    return CompletableFuture.runAsync(() -> {
      if (graceful) {
        lm.drainGracefully(options.drainTime(), inboundOnly);
      } else {
        // Envoy's non-graceful drain only stops accepting; open connections are left alone.
        lm.stopListening(inboundOnly);
      }
    }, ctl);
  }

  /** Stops at once (no drain) and waits until everything has ended. For tests and embedding. */
  @Override
  public void close() {
    synchronized (this) {
      if (!started) {
        return;
      }
    }
    beginShutdown(Duration.ZERO);
    exit.join();
  }

  private void beginShutdown(Duration drainTime) {
    ScheduledExecutorService ctl;
    synchronized (this) {
      if (shuttingDown || !started || exit.isDone()) {
        return;
      }
      shuttingDown = true;
      ctl = control;
    }
    if (ctl == null) {
      return;
    }
    try {
      ctl.execute(() -> drainAndExit(drainTime));
    } catch (RejectedExecutionException e) {
      // The control thread already ended (a failed start-up finished the server).
    }
  }

  /**
   * On the control thread: DRAINING, every listener stops accepting and asks its connections to
   * close; the drain ends when none is left or the drain time is over; then everything stops.
   */
  private void drainAndExit(Duration drainTime) {
    log.info("shutting down: draining for up to {} ms ({})", drainTime.toMillis(),
        options.drainStrategy().name().toLowerCase(java.util.Locale.ROOT));
    initState = ServerState.DRAINING;
    ServerStats ss = serverStats;
    if (ss != null) {
      ss.setState(ServerState.DRAINING);
    }
    ListenerManager lm = listenerManager;
    ScheduledExecutorService ctl = control;
    if (lm == null || ctl == null) {
      finish(0);
      return;
    }
    List<ActiveListener> draining = List.copyOf(lm.listeners());
    lm.drainAll(drainTime);
    long deadline = System.nanoTime() + drainTime.toNanos();
    ScheduledFuture<?>[] poll = new ScheduledFuture<?>[1];
    Runnable check = () -> {
      boolean idle = draining.stream().allMatch(l -> l.activeConnections() == 0);
      if (idle || System.nanoTime() - deadline >= 0) {
        if (poll[0] != null) {
          poll[0].cancel(false);
        }
        finish(0);
      }
    };
    poll[0] = ctl.scheduleWithFixedDelay(check, 0, DRAIN_POLL_MS, TimeUnit.MILLISECONDS);
  }

  /** Stops everything that was started and completes the exit code; idempotent. */
  private void finish(int code) {
    if (exit.isDone()) {
      return;
    }
    teardown();
    long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
    log.info("exiting (code {}, process up {} ms)", code, uptime);
    exit.complete(code);
  }

  private synchronized void teardown() {
    shuttingDown = true;
    if (!live.isDone()) {
      live.completeExceptionally(new IllegalStateException("server stopped before it was live"));
    }
    ConnectionPools cp = pools;
    if (cp != null) {
      cp.drainAll();
    }
    DynamicResources xds = dynamicResources;
    if (xds != null) {
      xds.close();
    }
    if (secrets instanceof SdsSecretProvider sds) {
      sds.close();
    }
    ListenerManager lm = listenerManager;
    if (lm != null) {
      lm.close();
    }
    AdminServer a = admin;
    if (a != null) {
      a.close();
    }
    ClusterManagerImpl cm = clusterManager;
    if (cm != null) {
      cm.close();
    }
    Workers w = workers;
    if (w != null) {
      w.shutdownGracefully();
    }
    AccessLogWriters.shutdown();
    ScheduledExecutorService ctl = control;
    if (ctl != null) {
      // Called on the control thread itself at the end of a drain: stop without waiting for it.
      ctl.shutdownNow();
    }
  }

  // ---- for tests and embedding ----

  /** Completes when the server is LIVE; fails when start-up failed or it stopped before. */
  public CompletableFuture<Void> live() {
    return live;
  }

  /** Waits until LIVE. @throws IllegalStateException when start-up failed or timed out */
  public Server awaitLive(Duration timeout) {
    try {
      live.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("server not live after " + timeout.toMillis() + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("start-up failed: " + e.getCause().getMessage(), e.getCause());
    }
    return this;
  }

  /** Completes with the exit code once the server has stopped. */
  public CompletableFuture<Integer> exitCode() {
    return exit;
  }

  /** The state {@code /ready} and {@code server.state} report. */
  public ServerState state() {
    return ServerState.of(initState, health.failed());
  }

  /** The switch {@code /healthcheck/fail} and {@code /healthcheck/ok} flip. */
  public HealthCheckFlag healthCheckFlag() {
    return health;
  }

  /** The bound admin port (the real one for {@code port_value: 0}). */
  public int adminPort() {
    AdminServer a = admin;
    if (a == null) {
      throw new IllegalStateException("no admin listener (not started, or no admin.address)");
    }
    return a.port();
  }

  /** The bound port of a listener's first address (the real one for port 0). */
  public int listenerPort(String listenerName) {
    ListenerManager lm = listenerManager;
    ActiveListener l = lm == null ? null : lm.get(listenerName);
    if (l == null || l.boundAddresses().isEmpty()) {
      throw new IllegalStateException("no bound listener named " + listenerName);
    }
    return l.boundAddresses().getFirst().getPort();
  }

  /** The root stats store (after {@link #start()}). */
  public StatsStore stats() {
    StatsStore s = store;
    if (s == null) {
      throw new IllegalStateException("server not started");
    }
    return s;
  }

  public Options options() {
    return options;
  }

  public Bootstrap bootstrap() {
    return bootstrap;
  }

  // ---- helpers ----

  static DrainDecision.Strategy drainStrategy(Options.DrainStrategy s) {
    return switch (s) {
      case GRADUAL -> DrainDecision.Strategy.GRADUAL;
      case IMMEDIATE -> DrainDecision.Strategy.IMMEDIATE;
    };
  }

  static StatsStore statsStore(Bootstrap bootstrap) {
    if (!bootstrap.hasStatsConfig()) {
      return new StatsStore();
    }
    try {
      return new StatsStore(bootstrap.getStatsConfig());
    } catch (ConfigException e) {
      throw e.under("stats_config");
    }
  }

  /** Envoy refuses two static listeners of one name. */
  static void checkListenerNames(List<Listener> listeners) {
    Set<String> names = new HashSet<>();
    for (int i = 0; i < listeners.size(); i++) {
      if (!names.add(listeners.get(i).getName())) {
        throw new ConfigException("static_resources.listeners[" + i + "].name",
            "duplicate listener name " + listeners.get(i).getName());
      }
    }
  }

  private void updateServerStats(Instant startTime) {
    ServerStats ss = serverStats;
    if (ss == null) {
      return;
    }
    ss.uptime.set(Duration.between(startTime, Instant.now()).toSeconds());
    ss.setState(state());
    var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    var nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
    ss.memoryAllocated.set(heap.getUsed() + nonHeap.getUsed());
    ss.memoryHeapSize.set(heap.getCommitted());
    ss.memoryPhysicalSize.set(heap.getCommitted() + nonHeap.getCommitted());
    ListenerManager lm = listenerManager;
    if (lm != null) {
      // Envoy's server.total_connections: open downstream connections over all listeners.
      ss.totalConnections.set(lm.listeners().stream().mapToLong(ActiveListener::activeConnections).sum());
    }
  }

  /**
   * {@code server.version}: Envoy puts a number derived from its source revision there; here the
   * release {@code major.minor.patch} as {@code major*1000000 + minor*1000 + patch}, 0 for a
   * development build.
   */
  static long versionNumber(String versionString) {
    String release = versionString.contains("/") ? versionString.split("/")[1] : versionString;
    String[] parts = release.split("[.-]");
    long n = 0;
    for (int i = 0; i < 3; i++) {
      long part;
      try {
        part = i < parts.length ? Long.parseLong(parts[i]) : 0;
      } catch (NumberFormatException e) {
        return 0;
      }
      n = n * 1000 + part;
    }
    return n;
  }

  private static <T> T phase(String name, Supplier<T> step) {
    long t = System.nanoTime();
    T result = step.get();
    log.debug("start-up: {} in {} ms", name, millisSince(t));
    return result;
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
