package dev.sluice.bench;

import com.google.protobuf.Duration;
import dev.sluice.stats.StatsStore;
import dev.sluice.upstream.ClusterManagerImpl;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The rule that an EDS update touching one cluster costs in proportion to that cluster,
 * not to all: one assignment (10 endpoints, one of which moves each time) applied to a cluster
 * manager holding {@code count} active EDS clusters of 10 endpoints each. Compare the scores for
 * 100 and 10,000 clusters: they should be about equal.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EdsUpdateBenchmark {
  private static final int ENDPOINTS = 10;

  @Param({"100", "10000"})
  public int count;

  private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
  private ClusterManagerImpl manager;
  /** Two assignments per cluster (the last endpoint's port differs), applied in turn. */
  private final List<Map<String, ClusterLoadAssignment>> updates = new ArrayList<>();
  private int next;

  @Setup
  public void setUp() throws Exception {
    List<Cluster> clusters = new ArrayList<>(count);
    Map<String, ClusterLoadAssignment> all = new HashMap<>();
    for (int i = 0; i < count; i++) {
      clusters.add(cluster(name(i)));
      all.put(name(i), assignment(i, 0));
    }
    manager = new ClusterManagerImpl(clusters, new StatsStore(), 2, control);
    // The manager's changes belong to the control thread: the benchmark thread takes its place
    // once the control thread has started discovery and gone idle (no timers are configured).
    control.submit(() -> manager.updateLoadAssignments(all)).get();
    if (manager.clusters().size() != count) {
      throw new IllegalStateException("clusters not active: " + manager.clusters().size());
    }
    for (int i = 0; i < 64; i++) {
      int cluster = (int) ((i * 7919L) % count);
      updates.add(Map.of(name(cluster), assignment(cluster, 1 + i % 2)));
    }
  }

  @TearDown
  public void tearDown() throws Exception {
    control.submit(manager::close).get();
    control.shutdownNow();
  }

  @Benchmark
  public int updateOneCluster() {
    Map<String, ClusterLoadAssignment> update = updates.get(next++ & 63);
    return manager.updateLoadAssignments(update).size();
  }

  private static String name(int i) {
    return "outbound|9080||svc" + i + ".ns" + (i % 50) + ".svc.cluster.local";
  }

  private static Cluster cluster(String name) {
    return Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS)
        .setConnectTimeout(Duration.newBuilder().setSeconds(1))
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setServiceName(name)
            .setEdsConfig(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())
                .setInitialFetchTimeout(Duration.getDefaultInstance())))
        .build();
  }

  /** Ten endpoints in the cluster's own /24; {@code variant} moves the last one to another port. */
  private static ClusterLoadAssignment assignment(int cluster, int variant) {
    LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
    for (int e = 0; e < ENDPOINTS; e++) {
      int port = e == ENDPOINTS - 1 ? 9080 + variant : 9080;
      String ip = "10." + (cluster >> 8 & 255) + "." + (cluster & 255) + "." + (e + 1);
      locality.addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(
          Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)))));
    }
    return ClusterLoadAssignment.newBuilder().setClusterName(name(cluster)).addEndpoints(locality).build();
  }
}
