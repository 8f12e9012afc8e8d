package dev.sluice.upstream.pool;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.tls.SecretProvider;
import dev.sluice.tls.UpstreamTransportSocket;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.ResourceManager;
import dev.sluice.upstream.ClusterInfoImpl;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Every worker's connection pools, by host and protocol (Envoy's per-worker ThreadLocalCluster
 * pools). A worker touches only its own map, so lookups take no lock; membership changes reach
 * each worker as a task on its own loop, which drains the pools of removed hosts.
 */
public final class ConnectionPools {
  /** The upstream protocol a pool speaks. */
  public enum Protocol {
    HTTP1,
    HTTP2,
    /**
     * The cluster's {@code auto_config}: over TLS, ALPN picks HTTP/2 or HTTP/1.1 per connection
     * ({@link AutoConnectionPool}); without TLS there is no ALPN, so HTTP/1.1.
     */
    AUTO
  }

  private final PerWorker[] workers;
  private final SecretProvider secrets;
  /** Each cluster version's upstream TLS (built once: SslContexts are costly), empty for plaintext. */
  private final ConcurrentHashMap<ClusterInfo, Optional<UpstreamTransportSocket>> tls = new ConcurrentHashMap<>();
  /** The protocol each AUTO host negotiated last, so every worker's pool for it starts knowing. */
  private final ConcurrentHashMap<Host, Protocol> negotiated = new ConcurrentHashMap<>();

  public ConnectionPools(int concurrency, ClusterManager clusters, SecretProvider secrets) {
    this.secrets = secrets;
    workers = new PerWorker[concurrency];
    for (int i = 0; i < concurrency; i++) {
      workers[i] = new PerWorker();
    }
    clusters.addListener(new ClusterManager.ClusterUpdateListener() {
      @Override
      public void onHostsRemoved(Cluster cluster, Collection<Host> removed) {
        List<Host> hosts = List.copyOf(removed);
        hosts.forEach(negotiated::remove);
        for (PerWorker w : workers) {
          w.runOnLoop(() -> w.drain(hosts));
        }
      }

      @Override
      public void onClusterAddOrUpdate(Cluster cluster) {
        tls.keySet().removeIf(ci -> ci.name().equals(cluster.info().name()) && ci != cluster.info());
      }

      @Override
      public void onClusterRemoval(String name) {
        tls.keySet().removeIf(ci -> ci.name().equals(name));
        negotiated.keySet().removeIf(h -> h.cluster().name().equals(name));
        for (PerWorker w : workers) {
          w.runOnLoop(() -> w.drainCluster(name));
        }
      }
    });
  }

  /**
   * The DEFAULT priority pool of {@code worker} for {@code host}; see
   * {@link #get(int, Host, RoutingPriority, Protocol, Supplier)}.
   */
  public ConnectionPool get(int worker, Host host, Protocol protocol, Supplier<Bootstrap> bootstrap) {
    return get(worker, host, RoutingPriority.DEFAULT, protocol, bootstrap);
  }

  /**
   * The pool of {@code worker} for {@code host} at a routing priority (Envoy keeps pools per
   * priority, each with that priority's circuit breakers), made on first use within
   * {@code max_connection_pools}: beyond it, idle pools of the cluster on this worker are closed
   * to make room, and if none is, the answer is a pool that fails every request with OVERFLOW
   * ({@code upstream_cx_pool_overflow}, flag UO). Must be called on that worker's loop;
   * {@code bootstrap} supplies a client bootstrap on that loop.
   */
  public ConnectionPool get(int worker, Host host, RoutingPriority priority, Protocol protocol,
      Supplier<Bootstrap> bootstrap) {
    PerWorker w = workers[worker];
    Map<Host, ConnectionPool> map = w.maps[(priority == RoutingPriority.HIGH ? 3 : 0) + protocol.ordinal()];
    ConnectionPool pool = map.get(host);
    if (pool == null) {
      ResourceManager resources = host.cluster().resourceManager(priority);
      ResourceManager.ResourceLimit limit = resources.connectionPools();
      if (!limit.canCreate() && w.closeIdlePools(host.cluster().name()) == 0 && !limit.canCreate()) {
        return new OverflowPool(host);
      }
      Bootstrap b = bootstrap.get();
      if (w.loop == null && b.config().group() instanceof EventLoop loop) {
        w.loop = loop;
      }
      pool = newPool(host, b, protocol, resources);
      map.put(host, pool);
    }
    return pool;
  }

  /**
   * The pool for {@code downstream}'s requests to {@code host}: the worker's shared one, unless
   * {@code original_src} gave the downstream an {@link UpstreamSource}; then a pool of its own,
   * whose connections bind to that source and which drains when the downstream closes.
   */
  public ConnectionPool get(DownstreamConnection downstream, Host host, RoutingPriority priority, Protocol protocol) {
    UpstreamSource source = UpstreamSource.of(downstream.channel);
    if (source == null) {
      return get(downstream.workerIndex, host, priority, protocol, downstream::newUpstreamBootstrap);
    }
    UpstreamSource.PoolKey key = new UpstreamSource.PoolKey(host, priority.getNumber(), protocol);
    ConnectionPool pool = source.pools.get(key);
    if (pool == null) {
      ResourceManager resources = host.cluster().resourceManager(priority);
      if (!resources.connectionPools().canCreate()) {
        return new OverflowPool(host);
      }
      pool = newPool(host, source.applyTo(downstream.newUpstreamBootstrap()), protocol, resources);
      source.pools.put(key, pool);
    }
    return pool;
  }

  /** A new pool counted against {@code max_connection_pools}. */
  private ConnectionPool newPool(Host host, Bootstrap b, Protocol protocol, ResourceManager resources) {
    UpstreamTransportSocket socket = tls.computeIfAbsent(host.cluster(),
        ci -> Optional.ofNullable(UpstreamTransportSocket.forCluster(ci, secrets))).orElse(null);
    ConnectionPool pool = switch (protocol) {
      case HTTP1 -> new Http1ConnectionPool(host, b, socket, null, resources);
      case HTTP2 -> new Http2ConnectionPool(host, b, socket, null, resources);
      case AUTO -> socket == null ? new Http1ConnectionPool(host, b, null, null, resources)
          : new AutoConnectionPool(host, b, socket, negotiated, resources);
    };
    resources.connectionPools().inc();
    return new CountedPool(pool, resources.connectionPools());
  }

  /** Drains every pool (server shutdown), each on its own worker. */
  public void drainAll() {
    for (PerWorker w : workers) {
      w.runOnLoop(w::drainEverything);
    }
  }

  /**
   * A pool counted against {@code max_connection_pools} until it is drained (its host or cluster
   * went away, shutdown, or closed when idle to make room).
   */
  private static final class CountedPool implements ConnectionPool {
    private final ConnectionPool pool;
    private final ResourceManager.ResourceLimit limit;
    private boolean released;

    CountedPool(ConnectionPool pool, ResourceManager.ResourceLimit limit) {
      this.pool = pool;
      this.limit = limit;
    }

    @Override
    public Host host() {
      return pool.host();
    }

    @Override
    public @Nullable Cancellable newStream(PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
      return pool.newStream(callbacks, response);
    }

    @Override
    public void drain() {
      pool.drain();
      if (!released) {
        released = true;
        limit.dec();
      }
    }

    @Override
    public boolean idle() {
      return pool.idle();
    }
  }

  /** What a request gets when {@code max_connection_pools} refuses a new pool. */
  private static final class OverflowPool implements ConnectionPool {
    private final Host host;

    OverflowPool(Host host) {
      this.host = host;
    }

    @Override
    public Host host() {
      return host;
    }

    @Override
    public @Nullable Cancellable newStream(PoolCallbacks callbacks, UpstreamResponseCallbacks response) {
      if (host.cluster() instanceof ClusterInfoImpl info) {
        info.upstreamCxPoolOverflow().inc();
      }
      callbacks.onPoolFailure(ResetReason.OVERFLOW, "overflow", host);
      return null;
    }

    @Override
    public void drain() {}

    @Override
    public boolean idle() {
      return true;
    }
  }

  private static final class PerWorker {
    /** By priority (DEFAULT, HIGH) then protocol: {@code priority * 3 + protocol.ordinal()}. */
    @SuppressWarnings("unchecked")
    final IdentityHashMap<Host, ConnectionPool>[] maps = new IdentityHashMap[6];
    volatile @Nullable EventLoop loop;

    PerWorker() {
      for (int i = 0; i < maps.length; i++) {
        maps[i] = new IdentityHashMap<>();
      }
    }

    void runOnLoop(Runnable r) {
      EventLoop l = loop;
      if (l != null) {
        l.execute(r);
      }
    }

    void drain(List<Host> hosts) {
      for (Host h : hosts) {
        for (Map<Host, ConnectionPool> m : maps) {
          ConnectionPool p = m.remove(h);
          if (p != null) {
            p.drain();
          }
        }
      }
    }

    void drainCluster(String name) {
      for (Map<Host, ConnectionPool> m : maps) {
        Iterator<Map.Entry<Host, ConnectionPool>> it = m.entrySet().iterator();
        while (it.hasNext()) {
          Map.Entry<Host, ConnectionPool> e = it.next();
          if (e.getKey().cluster().name().equals(name)) {
            e.getValue().drain();
            it.remove();
          }
        }
      }
    }

    /** Closes this worker's idle pools of a cluster; returns how many. */
    int closeIdlePools(String cluster) {
      int closed = 0;
      for (Map<Host, ConnectionPool> m : maps) {
        Iterator<Map.Entry<Host, ConnectionPool>> it = m.entrySet().iterator();
        while (it.hasNext()) {
          Map.Entry<Host, ConnectionPool> e = it.next();
          if (e.getKey().cluster().name().equals(cluster) && e.getValue().idle()) {
            e.getValue().drain();
            it.remove();
            closed++;
          }
        }
      }
      return closed;
    }

    void drainEverything() {
      for (Map<Host, ConnectionPool> m : maps) {
        for (ConnectionPool p : new ArrayList<>(m.values())) {
          p.drain();
        }
        m.clear();
      }
    }
  }
}
