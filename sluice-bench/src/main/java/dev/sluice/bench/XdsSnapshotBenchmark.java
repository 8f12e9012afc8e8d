package dev.sluice.bench;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import dev.sluice.router.RouteCompileContext;
import dev.sluice.router.RouteTable;
import dev.sluice.stats.StatsStore;
import dev.sluice.upstream.ClusterManagerImpl;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.route.v3.Decorator;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.util.ArrayList;
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
 * The control path at mesh scale: decoding a CDS response of {@code count} Istio-style outbound
 * clusters (EDS, circuit breakers, protocol options, metadata) and building a
 * {@link ClusterManagerImpl} from them; decoding an RDS response whose RouteConfiguration has
 * {@code count} virtual hosts (Istio's six domains each, a retry policy) and compiling it into a
 * {@link RouteTable}. Protos arrive as the serialized {@link DiscoveryResponse} an xDS stream delivers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class XdsSnapshotBenchmark {
  @Param({"10000"})
  public int count;

  private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
  private byte[] cds;
  private byte[] rds;
  private List<Cluster> clusters;
  private RouteConfiguration routes;

  @Setup
  public void setUp() throws Exception {
    DiscoveryResponse.Builder c = DiscoveryResponse.newBuilder().setVersionInfo("1")
        .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster");
    for (int i = 0; i < count; i++) {
      c.addResources(Any.pack(cluster(i)));
    }
    cds = c.build().toByteArray();
    RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName("9080").setValidateClusters(
        com.google.protobuf.BoolValue.of(false));
    for (int i = 0; i < count; i++) {
      rc.addVirtualHosts(virtualHost(i));
    }
    rds = DiscoveryResponse.newBuilder().setVersionInfo("1")
        .setTypeUrl("type.googleapis.com/envoy.config.route.v3.RouteConfiguration")
        .addResources(Any.pack(rc.build())).build().toByteArray();
    clusters = parseClusters();
    routes = parseRoutes();
    if (compileRoutes().virtualHosts().size() != count || buildClusters() != count) {
      throw new IllegalStateException("snapshot incomplete");
    }
  }

  @TearDown
  public void tearDown() {
    control.shutdownNow();
  }

  @Benchmark
  public List<Cluster> parseClusters() throws InvalidProtocolBufferException {
    DiscoveryResponse response = DiscoveryResponse.parseFrom(cds);
    List<Cluster> out = new ArrayList<>(response.getResourcesCount());
    for (Any any : response.getResourcesList()) {
      out.add(any.unpack(Cluster.class));
    }
    return out;
  }

  /** Builds the cluster manager (EDS clusters stay warming: no assignment) and closes it. */
  @Benchmark
  public int buildClusters() throws Exception {
    ClusterManagerImpl manager = new ClusterManagerImpl(clusters, new StatsStore(), 2, control);
    int built = manager.warmingClusters().size() + manager.clusters().size();
    control.submit(manager::close).get();
    return built;
  }

  @Benchmark
  public RouteConfiguration parseRoutes() throws InvalidProtocolBufferException {
    return DiscoveryResponse.parseFrom(rds).getResources(0).unpack(RouteConfiguration.class);
  }

  @Benchmark
  public RouteTable compileRoutes() {
    return RouteTable.compile(routes, RouteCompileContext.DEFAULT);
  }

  private static String host(int i) {
    return "svc" + i + ".ns" + (i % 50) + ".svc.cluster.local";
  }

  /** Shaped like istiod's outbound clusters (without the mTLS transport socket match). */
  private static Cluster cluster(int i) {
    String name = "outbound|9080||" + host(i);
    Struct istio = Struct.newBuilder().putFields("services", Value.newBuilder().setListValue(
        com.google.protobuf.ListValue.newBuilder().addValues(Value.newBuilder().setStructValue(Struct.newBuilder()
            .putFields("host", Value.newBuilder().setStringValue(host(i)).build())
            .putFields("name", Value.newBuilder().setStringValue("svc" + i).build())
            .putFields("namespace", Value.newBuilder().setStringValue("ns" + (i % 50)).build()))))
        .build()).build();
    HttpProtocolOptions options = HttpProtocolOptions.newBuilder()
        .setCommonHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
            .setIdleTimeout(Duration.newBuilder().setSeconds(3600)))
        .setUseDownstreamProtocolConfig(HttpProtocolOptions.UseDownstreamHttpConfig.newBuilder()
            .setHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance())
            .setHttp2ProtocolOptions(io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions.newBuilder()
                .setMaxConcurrentStreams(UInt32Value.of(1073741824))))
        .build();
    UInt32Value max = UInt32Value.of(Integer.MAX_VALUE);
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setServiceName(name)
            .setEdsConfig(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())
                .setInitialFetchTimeout(Duration.getDefaultInstance())
                .setResourceApiVersion(io.envoyproxy.envoy.config.core.v3.ApiVersion.V3)))
        .setConnectTimeout(Duration.newBuilder().setSeconds(10))
        .setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(CircuitBreakers.Thresholds.newBuilder()
            .setPriority(RoutingPriority.DEFAULT).setMaxConnections(max).setMaxPendingRequests(max)
            .setMaxRequests(max).setMaxRetries(max).setTrackRemaining(true)))
        .setCommonLbConfig(Cluster.CommonLbConfig.getDefaultInstance())
        .putTypedExtensionProtocolOptions("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(options))
        .setMetadata(Metadata.newBuilder().putFilterMetadata("istio", istio))
        .build();
  }

  /** Shaped like istiod's per-port outbound route configuration (one virtual host per service). */
  private static VirtualHost virtualHost(int i) {
    String svc = "svc" + i;
    String ns = "ns" + (i % 50);
    String fqdn = host(i);
    return VirtualHost.newBuilder().setName(fqdn + ":9080")
        .addDomains(fqdn).addDomains(fqdn + ":9080").addDomains(svc + "." + ns).addDomains(svc + "." + ns + ":9080")
        .addDomains(svc + "." + ns + ".svc").addDomains(svc + "." + ns + ".svc:9080")
        .setIncludeRequestAttemptCount(true)
        .addRoutes(Route.newBuilder().setName("default")
            .setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setDecorator(Decorator.newBuilder().setOperation(fqdn + ":9080/*"))
            .setRoute(RouteAction.newBuilder().setCluster("outbound|9080||" + fqdn)
                .setTimeout(Duration.getDefaultInstance())
                .setRetryPolicy(RetryPolicy.newBuilder()
                    .setRetryOn("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes")
                    .setNumRetries(UInt32Value.of(2)).setHostSelectionRetryMaxAttempts(5))
                .setMaxStreamDuration(RouteAction.MaxStreamDuration.newBuilder()
                    .setMaxStreamDuration(Duration.getDefaultInstance())
                    .setGrpcTimeoutHeaderMax(Duration.getDefaultInstance()))))
        .build();
  }
}
