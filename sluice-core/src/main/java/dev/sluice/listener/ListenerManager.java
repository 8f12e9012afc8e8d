package dev.sluice.listener;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.stats.StatsScope;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The server's listeners by name. Mutations ({@link #addOrUpdate}, {@link #remove},
 * {@link #drainAll}, {@link #stopListening}) run on the control thread; workers only read the
 * by-address snapshot through {@link #findByAddress} (one volatile read).
 *
 * <p>An update binds the new version first (SO_REUSEPORT lets both hold the address), then closes
 * the old version's sockets and drains its connections for the drain time, as Envoy does.
 */
public final class ListenerManager implements AutoCloseable {
  private final Workers workers;
  private final StatsScope rootStats;
  private final ListenerManagerStats stats;
  private final Function<Listener, FactoryContext> contexts;
  private final DownstreamTransportSockets transportSockets;
  private final GlobalConnectionLimit globalLimit;
  private final ScheduledExecutorService controlExecutor;
  private final Duration drainTime;
  private final DrainDecision.Strategy drainStrategy;
  private final AtomicLong connectionIds = new AtomicLong();
  private final ConcurrentHashMap<String, ListenerStats> listenerStats = new ConcurrentHashMap<>();
  private final LinkedHashMap<String, ActiveListener> active = new LinkedHashMap<>();
  private final List<ActiveListener> drainingListeners = new ArrayList<>();
  private volatile Map<InetSocketAddress, ActiveListener> byAddress = Map.of();
  private @Nullable EventLoopGroup acceptorGroup;

  /** A manager whose drains ask every connection to close at once ({@code immediate}). */
  public ListenerManager(
      Workers workers,
      StatsScope rootStats,
      Function<Listener, FactoryContext> contexts,
      DownstreamTransportSockets transportSockets,
      GlobalConnectionLimit globalLimit,
      ScheduledExecutorService controlExecutor,
      Duration drainTime) {
    this(workers, rootStats, contexts, transportSockets, globalLimit, controlExecutor, drainTime, DrainDecision.Strategy.IMMEDIATE);
  }

  /**
   * @param contexts the factory context for a listener's extensions (names the listener)
   * @param drainTime {@code --drain-time-s}: how long removed or replaced listeners drain
   * @param drainStrategy {@code --drain-strategy}: how connections are asked to close meanwhile
   */
  public ListenerManager(
      Workers workers,
      StatsScope rootStats,
      Function<Listener, FactoryContext> contexts,
      DownstreamTransportSockets transportSockets,
      GlobalConnectionLimit globalLimit,
      ScheduledExecutorService controlExecutor,
      Duration drainTime,
      DrainDecision.Strategy drainStrategy) {
    this.drainStrategy = drainStrategy;
    this.workers = workers;
    this.rootStats = rootStats;
    this.stats = new ListenerManagerStats(rootStats);
    this.contexts = contexts;
    this.transportSockets = transportSockets;
    this.globalLimit = globalLimit;
    this.controlExecutor = controlExecutor;
    this.drainTime = drainTime;
  }

  public ListenerManagerStats stats() {
    return stats;
  }

  Workers workers() {
    return workers;
  }

  GlobalConnectionLimit globalLimit() {
    return globalLimit;
  }

  long nextConnectionId() {
    return connectionIds.incrementAndGet();
  }

  ListenerStats listenerStats(String prefix) {
    return listenerStats.computeIfAbsent(prefix, p -> new ListenerStats(rootStats.scope("listener." + p + "."), workers.concurrency()));
  }

  // The NIO fallback: one acceptor thread handing channels to the workers round robin.
  synchronized EventLoopGroup acceptorGroup() {
    if (acceptorGroup == null) {
      acceptorGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("sluice-acceptor"), NioIoHandler.newFactory());
    }
    return acceptorGroup;
  }

  /** Marks the workers started ({@code listener_manager.workers_started}, which pilot-agent polls). */
  public void startWorkers() {
    stats.workersStarted.set(1);
  }

  /**
   * Adds a listener, or replaces the one of the same name when its config differs (the old version
   * drains). An identical config is ignored, as Envoy ignores an unchanged resource.
   *
   * @return true when a listener was added or replaced
   * @throws dev.sluice.api.config.ConfigException with the field path; the previous version stays
   */
  public synchronized boolean addOrUpdate(Listener config) {
    ActiveListener previous = active.get(config.getName());
    if (previous != null && previous.config().equals(config)) {
      return false;
    }
    ActiveListener next = new ActiveListener(config, contexts.apply(config), transportSockets, this);
    next.bind(previous);
    active.put(config.getName(), next);
    if (previous == null) {
      stats.listenerAdded.inc();
    } else {
      stats.listenerModified.inc();
      drain(previous, drainTime);
    }
    publish();
    return true;
  }

  /**
   * Builds {@code config} without adding or binding it, for a listener that must warm first.
   *
   * @throws dev.sluice.api.config.ConfigException as {@link #addOrUpdate} would
   */
  public synchronized void validate(Listener config) {
    new ActiveListener(config, contexts.apply(config), transportSockets, this);
  }

  /** Removes a listener: its sockets close now, its connections drain. False when unknown. */
  public synchronized boolean remove(String name) {
    ActiveListener listener = active.remove(name);
    if (listener == null) {
      return false;
    }
    stats.listenerRemoved.inc();
    drain(listener, drainTime);
    publish();
    return true;
  }

  /** {@code /drain_listeners}: every listener (or only INBOUND ones) stops accepting and drains. */
  public synchronized void drainAll(Duration drainTime, boolean inboundOnly) {
    Predicate<ActiveListener> selected =
        l -> !inboundOnly || l.config().getTrafficDirection() == io.envoyproxy.envoy.config.core.v3.TrafficDirection.INBOUND;
    for (ActiveListener l : List.copyOf(active.values())) {
      if (selected.test(l)) {
        active.remove(l.name());
        drain(l, drainTime);
      }
    }
    publish();
  }

  /**
   * Envoy's graceful {@code /drain_listeners}: the selected listeners go on accepting while their
   * connections, open and new, are closed as they finish (HTTP/1 {@code connection: close}, HTTP/2
   * GOAWAY, per the drain strategy) for the drain time; then their sockets close, and so do the
   * connections still open (idle ones never got a response to carry the close). The listeners stay
   * configured. A second call while draining is ignored, as in Envoy.
   */
  public synchronized void drainGracefully(Duration drainTime, boolean inboundOnly) {
    if (gracefulDrainStarted) {
      return;
    }
    gracefulDrainStarted = true;
    List<ActiveListener> selected = new ArrayList<>();
    for (ActiveListener l : active.values()) {
      if (!inboundOnly || l.config().getTrafficDirection() == io.envoyproxy.envoy.config.core.v3.TrafficDirection.INBOUND) {
        l.startDraining(DrainDecision.start(drainStrategy, drainTime));
        selected.add(l);
      }
    }
    controlExecutor.schedule(() -> {
      for (ActiveListener l : selected) {
        l.closeServerSockets();
        l.closeConnections();
        stats.listenerStopped.inc();
      }
    }, drainTime.toMillis(), TimeUnit.MILLISECONDS);
  }

  private boolean gracefulDrainStarted;

  public void drainAll(Duration drainTime) {
    drainAll(drainTime, false);
  }

  /** Closes every server socket; accepted connections go on (shutdown, {@code /healthcheck/fail}). */
  public void stopListening() {
    stopListening(false);
  }

  /**
   * Closes the server sockets of every listener, or only of those whose {@code traffic_direction}
   * is INBOUND (Envoy's non-graceful {@code /drain_listeners?inboundonly}); accepted connections go
   * on and the listeners stay configured.
   */
  public synchronized void stopListening(boolean inboundOnly) {
    for (ActiveListener l : active.values()) {
      if (!inboundOnly || l.config().getTrafficDirection() == io.envoyproxy.envoy.config.core.v3.TrafficDirection.INBOUND) {
        l.closeServerSockets();
        stats.listenerStopped.inc();
      }
    }
  }

  private void drain(ActiveListener listener, Duration time) {
    listener.closeServerSockets();
    listener.startDraining(DrainDecision.start(drainStrategy, time));
    drainingListeners.add(listener);
    controlExecutor.schedule(() -> finishDrain(listener), time.toMillis(), TimeUnit.MILLISECONDS);
  }

  private synchronized void finishDrain(ActiveListener listener) {
    listener.closeConnections();
    drainingListeners.remove(listener);
    publish();
  }

  private void publish() {
    Map<InetSocketAddress, ActiveListener> index = new HashMap<>();
    for (ActiveListener l : active.values()) {
      for (InetSocketAddress a : l.bindToPort() ? l.boundAddresses() : l.configuredAddresses()) {
        index.putIfAbsent(a, l);
      }
    }
    byAddress = Map.copyOf(index);
    stats.totalListenersActive.set(active.size());
    stats.totalListenersDraining.set(drainingListeners.size());
  }

  public synchronized @Nullable ActiveListener get(String name) {
    return active.get(name);
  }

  public synchronized Collection<ActiveListener> listeners() {
    return List.copyOf(active.values());
  }

  /**
   * The listener a connection restored by {@code original_dst} is handed to
   * ({@code use_original_dst}): the exact {@code ip:port}, else the wildcard {@code 0.0.0.0:port}
   * (or {@code [::]:port} for IPv6), as Envoy's connection handler. Called on workers.
   */
  public @Nullable ActiveListener findByAddress(InetSocketAddress address) {
    Map<InetSocketAddress, ActiveListener> index = byAddress;
    ActiveListener exact = index.get(address);
    if (exact != null) {
      return exact;
    }
    InetAddress any = address.getAddress() instanceof java.net.Inet4Address ? ANY_V4 : ANY_V6;
    ActiveListener wildcard = index.get(new InetSocketAddress(any, address.getPort()));
    if (wildcard == null && any == ANY_V4) {
      // An IPv4 connection also reaches a dual-stack "::" listener.
      wildcard = index.get(new InetSocketAddress(ANY_V6, address.getPort()));
    }
    return wildcard;
  }

  private static final InetAddress ANY_V4 = com.google.common.net.InetAddresses.forString("0.0.0.0");
  private static final InetAddress ANY_V6 = com.google.common.net.InetAddresses.forString("::");

  /** Closes all sockets and connections now (server exit). */
  @Override
  public synchronized void close() {
    for (ActiveListener l : active.values()) {
      l.closeServerSockets();
      l.closeConnections();
    }
    for (ActiveListener l : drainingListeners) {
      l.closeConnections();
    }
    active.clear();
    drainingListeners.clear();
    publish();
    if (acceptorGroup != null) {
      acceptorGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
