package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.tls.SecretProvider;
import dev.sluice.tls.UpstreamTransportSocket;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import dev.sluice.api.upstream.Host;
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
   * The pool of {@code worker} for {@code host}, made on first use. Must be called on that
   * worker's loop; {@code bootstrap} supplies a client bootstrap on that loop.
   */
  public ConnectionPool get(int worker, Host host, Protocol protocol, Supplier<Bootstrap> bootstrap) {
    PerWorker w = workers[worker];
    Map<Host, ConnectionPool> map = switch (protocol) {
      case HTTP1 -> w.h1;
      case HTTP2 -> w.h2;
      case AUTO -> w.auto;
    };
    ConnectionPool pool = map.get(host);
    if (pool == null) {
      Bootstrap b = bootstrap.get();
      if (w.loop == null && b.config().group() instanceof EventLoop loop) {
        w.loop = loop;
      }
      UpstreamTransportSocket socket = tls.computeIfAbsent(host.cluster(),
          ci -> Optional.ofNullable(UpstreamTransportSocket.forCluster(ci, secrets))).orElse(null);
      pool = switch (protocol) {
        case HTTP1 -> new Http1ConnectionPool(host, b, socket);
        case HTTP2 -> new Http2ConnectionPool(host, b, socket);
        case AUTO -> socket == null ? new Http1ConnectionPool(host, b, null) : new AutoConnectionPool(host, b, socket, negotiated);
      };
      map.put(host, pool);
    }
    return pool;
  }

  /** Drains every pool (server shutdown), each on its own worker. */
  public void drainAll() {
    for (PerWorker w : workers) {
      w.runOnLoop(w::drainEverything);
    }
  }

  private static final class PerWorker {
    final IdentityHashMap<Host, ConnectionPool> h1 = new IdentityHashMap<>();
    final IdentityHashMap<Host, ConnectionPool> h2 = new IdentityHashMap<>();
    final IdentityHashMap<Host, ConnectionPool> auto = new IdentityHashMap<>();
    volatile @Nullable EventLoop loop;

    void runOnLoop(Runnable r) {
      EventLoop l = loop;
      if (l != null) {
        l.execute(r);
      }
    }

    void drain(List<Host> hosts) {
      for (Host h : hosts) {
        ConnectionPool p1 = h1.remove(h);
        if (p1 != null) {
          p1.drain();
        }
        ConnectionPool p2 = h2.remove(h);
        if (p2 != null) {
          p2.drain();
        }
        ConnectionPool pa = auto.remove(h);
        if (pa != null) {
          pa.drain();
        }
      }
    }

    void drainCluster(String name) {
      for (Map<Host, ConnectionPool> m : List.of(h1, h2, auto)) {
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

    void drainEverything() {
      for (ConnectionPool p : new ArrayList<>(h1.values())) {
        p.drain();
      }
      for (ConnectionPool p : new ArrayList<>(h2.values())) {
        p.drain();
      }
      for (ConnectionPool p : new ArrayList<>(auto.values())) {
        p.drain();
      }
      h1.clear();
      h2.clear();
      auto.clear();
    }
  }
}
