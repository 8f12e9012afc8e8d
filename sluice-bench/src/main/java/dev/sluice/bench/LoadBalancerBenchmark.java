package dev.sluice.bench;

import com.google.protobuf.Duration;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancer;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.stats.StatsStore;
import dev.sluice.upstream.ClusterManagerImpl;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.List;
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
 * One worker's {@link LoadBalancer#chooseHost} for each legacy {@code lb_policy}, on a STATIC
 * cluster of {@code hosts} equally weighted loopback endpoints built by {@link ClusterManagerImpl}.
 * The hash policies get a different hash key on every pick, as requests with distinct keys would.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LoadBalancerBenchmark {
  @Param({"ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "RING_HASH", "MAGLEV"})
  public String policy;

  @Param({"10", "10000"})
  public int hosts;

  private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
  private ClusterManagerImpl manager;
  private LoadBalancer balancer;
  private final HashKey key = new HashKey();

  @Setup
  public void setUp() throws Exception {
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName("bench");
    LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
    for (int i = 0; i < hosts; i++) {
      // Loopback only; the benchmark never connects.
      locality.addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(
          Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
              .setAddress("127.0." + (i / 250) + "." + (1 + i % 250)).setPortValue(9080)))));
    }
    cla.addEndpoints(locality);
    var cluster = io.envoyproxy.envoy.config.cluster.v3.Cluster.newBuilder()
        .setName("bench")
        .setType(io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(Duration.newBuilder().setSeconds(1))
        .setLbPolicy(io.envoyproxy.envoy.config.cluster.v3.Cluster.LbPolicy.valueOf(policy))
        .setLoadAssignment(cla)
        .build();
    manager = new ClusterManagerImpl(List.of(cluster), new StatsStore(), 1, control);
    control.submit(() -> {}).get(); // the cluster starts on the control thread
    Cluster c = manager.get("bench");
    if (c == null) {
      throw new IllegalStateException("cluster not active");
    }
    balancer = c.loadBalancer(0);
    if (balancer.chooseHost(key) == null) {
      throw new IllegalStateException("no host picked");
    }
  }

  @TearDown
  public void tearDown() throws Exception {
    control.submit(manager::close).get();
    control.shutdownNow();
  }

  @Benchmark
  public Host chooseHost() {
    key.next();
    return balancer.chooseHost(key);
  }

  /** A hash key that changes on every request (a golden-ratio sequence, spread over 64 bits). */
  private static final class HashKey implements LoadBalancerContext {
    private long hash;

    void next() {
      hash += 0x9E3779B97F4A7C15L;
    }

    @Override
    public boolean hasHashKey() {
      return true;
    }

    @Override
    public long hashKey() {
      return hash;
    }
  }
}
