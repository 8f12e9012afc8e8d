package dev.sluice.upstream.health;

import dev.sluice.upstream.ClusterImpl;
import dev.sluice.upstream.HealthFlag;
import dev.sluice.upstream.HostImpl;
import io.netty.channel.EventLoop;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import dev.sluice.tls.UpstreamTransportSocket;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * A cluster's active health checker (Envoy's HealthCheckerImplBase): one {@link HealthCheckSession}
 * per host, on the control thread; the check connections run on the {@link HealthCheckLoop}. A new
 * host starts FAILED_ACTIVE_HC and PENDING_ACTIVE_HC until its first result; every change of a
 * host's health republishes the cluster's snapshot, so workers' balancers see it. The cluster
 * warms until every host it started with had its first check, as Envoy's cluster initialization.
 */
public final class HealthChecker implements ClusterImpl.HostWatcher {
  private final ClusterImpl cluster;
  private final HealthCheckConfig config;
  private final ScheduledExecutorService control;
  private final HealthCheckLoop loops;
  private final RandomGenerator random;
  private final HealthCheckStats stats;
  private final Map<HostImpl, HealthCheckSession> sessions = new IdentityHashMap<>();
  /** Hosts whose first result the cluster's initialization waits for. */
  private final Set<HostImpl> awaitingFirst = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
  private @Nullable Runnable onInitialized;
  private boolean initialized;
  private boolean started;
  private boolean stopped;
  private Consumer<HostImpl> onPassed = h -> {};

  /**
   * @param control the control thread, where sessions run
   * @param random jitter source (tests pass a seeded one)
   */
  public HealthChecker(ClusterImpl cluster, HealthCheckConfig config, ScheduledExecutorService control,
      HealthCheckLoop loops, RandomGenerator random) {
    this.cluster = cluster;
    this.config = config;
    this.control = control;
    this.loops = loops;
    this.random = random;
    this.stats = new HealthCheckStats(cluster.info().statsScope());
  }

  /**
   * Called on the control thread with each host that passes a check; the outlier detector uses
   * it for {@code successful_active_health_check_uneject_host}.
   */
  public void onCheckPassed(Consumer<HostImpl> listener) {
    this.onPassed = listener;
  }

  @Override
  public void hostsAdded(List<HostImpl> added) {
    for (HostImpl host : added) {
      if (host.healthCheckConfig().getDisableActiveHealthCheck()) {
        continue; // the endpoint opted out: never checked, never failed by checks
      }
      host.setHealthFlag(HealthFlag.FAILED_ACTIVE_HC, true);
      host.setHealthFlag(HealthFlag.PENDING_ACTIVE_HC, true);
      Probe probe = probe(host);
      probe.useTransportSocket(this::transportSocket);
      HealthCheckSession session = new HealthCheckSession(host, this, probe);
      sessions.put(host, session);
      host.setHealthCheckMonitor(() -> control.execute(() -> {
        if (sessions.get(host) == session) {
          session.setUnhealthyPassive();
        }
      }));
      if (!initialized) {
        awaitingFirst.add(host);
      }
      if (started && !stopped) {
        session.start();
      }
    }
    updateGauges();
  }

  @Override
  public void hostsRemoved(List<HostImpl> removed) {
    for (HostImpl host : removed) {
      HealthCheckSession session = sessions.remove(host);
      if (session != null) {
        session.stop();
      }
      awaitingFirst.remove(host);
    }
    updateGauges();
    maybeInitialized();
  }

  @Override
  public void start() {
    if (stopped || started) {
      return;
    }
    started = true;
    sessions.values().forEach(HealthCheckSession::start);
  }

  @Override
  public void stop() {
    stopped = true;
    sessions.values().forEach(HealthCheckSession::stop);
  }

  @Override
  public boolean gatesWarming() {
    return true;
  }

  @Override
  public void whenInitialized(Runnable ready) {
    onInitialized = ready;
    maybeInitialized();
  }

  private void maybeInitialized() {
    Runnable ready = onInitialized;
    if (ready != null && awaitingFirst.isEmpty()) {
      onInitialized = null;
      initialized = true;
      ready.run();
    }
  }

  /** A check ended (or a passive failure came): publish health changes, count the first round. */
  void onComplete(HealthCheckSession session, HealthCheckSession.Transition transition) {
    if (transition == HealthCheckSession.Transition.CHANGED && !stopped) {
      cluster.refreshHealth();
      updateGauges();
    }
    if (awaitingFirst.remove(session.host)) {
      maybeInitialized();
    }
  }

  void onPassed(HostImpl host) {
    onPassed.accept(host);
  }

  /**
   * The delay before the next check (Envoy's interval): {@code no_traffic_interval} (or
   * {@code no_traffic_healthy_interval} for a healthy host) until the cluster has opened a
   * connection; otherwise the edge intervals right after a change and the (un)healthy interval
   * else; plus random jitter up to {@code interval_jitter_percent} of it and {@code interval_jitter}.
   */
  long interval(boolean healthy, HealthCheckSession.Transition transition) {
    long base;
    if (!cluster.info().stats().upstreamCxTotal.used()) {
      base = (healthy ? config.noTrafficHealthyInterval() : config.noTrafficInterval()).toMillis();
    } else if (transition == HealthCheckSession.Transition.CHANGED) {
      base = (healthy ? config.healthyEdgeInterval() : config.unhealthyEdgeInterval()).toMillis();
    } else {
      base = (healthy ? config.interval() : config.unhealthyInterval()).toMillis();
    }
    long percentJitter = config.intervalJitterPercent() * base / 100;
    if (percentJitter > 0) {
      base += random.nextLong(percentJitter);
    }
    long jitter = config.intervalJitter().toMillis();
    if (jitter > 0) {
      base += random.nextLong(jitter);
    }
    return base;
  }

  private void updateGauges() {
    long healthy = 0;
    long degraded = 0;
    for (HostImpl h : sessions.keySet()) {
      healthy += h.hasHealthFlag(HealthFlag.FAILED_ACTIVE_HC) ? 0 : 1;
      degraded += h.hasHealthFlag(HealthFlag.DEGRADED_ACTIVE_HC) ? 1 : 0;
    }
    stats.healthy.set(healthy);
    stats.degraded.set(degraded);
  }

  private volatile @Nullable Optional<UpstreamTransportSocket> tls;

  /**
   * The cluster's TLS transport socket, made on the first check (the server's secrets are known by
   * then); null for a plaintext cluster. Checks go over it, as Envoy's do.
   */
  private @Nullable UpstreamTransportSocket transportSocket() {
    Optional<UpstreamTransportSocket> t = tls;
    if (t == null) {
      synchronized (this) {
        t = tls;
        if (t == null) {
          t = Optional.ofNullable(UpstreamTransportSocket.forCluster(cluster.info(), loops.secrets()));
          tls = t;
        }
      }
    }
    return t.orElse(null);
  }

  private Probe probe(HostImpl host) {
    EventLoop loop = loops.loop();
    if (config.grpc() != null || (config.http() != null && config.http().http2())) {
      return new Http2Probe(host, config, stats, loop);
    }
    if (config.http() != null) {
      return new Http1Probe(host, config, stats, loop);
    }
    return new TcpProbe(host, config, stats, loop);
  }

  HealthCheckConfig config() {
    return config;
  }

  HealthCheckStats stats() {
    return stats;
  }

  ScheduledExecutorService control() {
    return control;
  }

  RandomGenerator random() {
    return random;
  }
}
