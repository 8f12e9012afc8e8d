package dev.sluice.testing;

import com.google.protobuf.Message;
import dev.sluice.accesslog.AccessLogs;
import dev.sluice.api.ExtensionRegistry;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.config.ConfigText;
import dev.sluice.config.ProtoJson;
import dev.sluice.config.ProtoTypes;
import dev.sluice.config.ServiceLoaderExtensionRegistry;
import dev.sluice.listener.DownstreamTransportSockets;
import dev.sluice.listener.GlobalConnectionLimit;
import dev.sluice.listener.ListenerManager;
import dev.sluice.listener.Workers;
import dev.sluice.server.ServerFactoryContext;
import dev.sluice.stats.StatsStore;
import dev.sluice.upstream.ClusterManagerImpl;
import dev.sluice.upstream.pool.ConnectionPools;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The data plane assembled in-process from its real parts (registry, stats, clusters, pools,
 * workers, listeners) for integration tests of the HTTP path: configs are written as YAML in the
 * test, connections go over real loopback sockets.
 */
public final class ProxyHarness implements AutoCloseable {
  public final StatsStore stats = new StatsStore();
  public final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "sluice-main-test");
    t.setDaemon(true);
    return t;
  });
  public final ExtensionRegistry registry = ServiceLoaderExtensionRegistry.installed(false);
  public final Workers workers;
  public final ClusterManagerImpl clusters;
  public final ConnectionPools pools;
  public final ListenerManager listeners;

  public ProxyHarness(int concurrency, List<Cluster> clusterConfigs) {
    workers = new Workers(concurrency);
    clusters = runOnControl(() -> new ClusterManagerImpl(clusterConfigs, stats, concurrency, control));
    clusters.initialized().orTimeout(10, TimeUnit.SECONDS).join();
    pools = new ConnectionPools(concurrency, clusters, new dev.sluice.tls.StaticSecretProvider(List.of()));
    listeners = new ListenerManager(workers, stats, l -> new Context(l.getName(), l.getTrafficDirection().name()),
        DownstreamTransportSockets.PLAINTEXT_ONLY, GlobalConnectionLimit.unlimited(), control, Duration.ofSeconds(1));
    listeners.startWorkers();
  }

  private <T> T runOnControl(java.util.concurrent.Callable<T> c) {
    try {
      return control.submit(c).get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new RuntimeException(e.getCause());
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  /** Adds a listener (on the control thread) and returns its bound port. */
  public int addListener(Listener l) {
    runOnControl(() -> listeners.addOrUpdate(l));
    return listeners.get(l.getName()).boundAddresses().get(0).getPort();
  }

  public long counter(String name) {
    return stats.counter(name).value();
  }

  public long gauge(String name) {
    return stats.gauge(name).value();
  }

  /** Parses a YAML (or JSON) config fragment into a proto, as the bootstrap loader would. */
  public static <T extends Message> T parse(String yaml, T prototype) {
    return new ProtoJson(ProtoTypes.get(), false).parse(ConfigText.readYaml(yaml), prototype);
  }

  public static Cluster staticCluster(String name, String protocolOptions, int... ports) {
    StringBuilder eps = new StringBuilder();
    for (int p : ports) {
      eps.append("      - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ").append(p).append("}}}\n");
    }
    return parse("""
        name: %s
        type: STATIC
        connect_timeout: 1s
        %s
        load_assignment:
          cluster_name: %s
          endpoints:
          - lb_endpoints:
        %s""".formatted(name, protocolOptions, name, eps), Cluster.getDefaultInstance());
  }

  /** Typed protocol options selecting HTTP/2 (h2c) to the upstream. */
  public static final String H2_UPSTREAM = """
      typed_extension_protocol_options:
          envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
            "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
            explicit_http_config: {http2_protocol_options: {}}""";

  /** A listener on 127.0.0.1:0 with an HTTP connection manager whose body is {@code hcm} (YAML, indented 10). */
  public static Listener httpListener(String name, String hcm) {
    return parse("""
        name: %s
        address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        filter_chains:
        - filters:
          - name: envoy.filters.network.http_connection_manager
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
        %s""".formatted(name, hcm.indent(6)), Listener.getDefaultInstance());
  }

  @Override
  public void close() {
    try {
      runOnControl(() -> {
        listeners.close();
        return null;
      });
    } finally {
      pools.drainAll();
      workers.close();
      runOnControl(() -> {
        clusters.close();
        return null;
      });
      control.shutdownNow();
    }
  }

  private final dev.sluice.http.RdsRouteConfigRegistry routeConfigs = new dev.sluice.http.RdsRouteConfigRegistry();

  private final class Context implements ServerFactoryContext {
    private final String listenerName;
    private final String direction;

    Context(String listenerName, String direction) {
      this.listenerName = listenerName;
      this.direction = direction;
    }

    @Override
    public ConnectionPools connectionPools() {
      return pools;
    }

    @Override
    public dev.sluice.http.RdsRouteConfigRegistry routeConfigs() {
      return routeConfigs;
    }

    @Override
    public StatsScope stats() {
      return stats;
    }

    @Override
    public ClusterManager clusterManager() {
      return clusters;
    }

    @Override
    public ExtensionRegistry extensions() {
      return registry;
    }

    @Override
    public AccessLogger accessLogger(List<AccessLog> configs) {
      return AccessLogs.compile(configs, this);
    }

    @Override
    public int concurrency() {
      return workers.concurrency();
    }

    @Override
    public Node localNode() {
      return Node.getDefaultInstance();
    }

    @Override
    public ScheduledExecutorService controlExecutor() {
      return control;
    }

    @Override
    public String listenerName() {
      return listenerName;
    }

    @Override
    public String trafficDirection() {
      return direction;
    }
  }
}
