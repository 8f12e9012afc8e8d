package dev.sluice.mesh.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import dev.sluice.mesh.istio.DestinationRule;
import dev.sluice.mesh.istio.DestinationRule.TrafficPolicy;
import dev.sluice.mesh.istio.IstioConfig;
import dev.sluice.mesh.istio.Protocols;
import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.Workload;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.BindConfig;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Clusters and their endpoints as istiod builds them ({@code pilot/pkg/networking/core/cluster*}):
 * per service port an EDS cluster {@code outbound|port||host} over ADS, per DestinationRule subset
 * one more ({@code outbound|port|subset|host}) whose endpoints are the workloads carrying the
 * subset's labels; LEAST_REQUEST, 10 s connect timeout, circuit breakers at the maximum with
 * {@code track_remaining}, the DestinationRule's traffic policy (subset over rule) as LB, circuit
 * breaker, outlier detection and connection-pool settings; {@code inbound|port||} clusters to the
 * application; {@code BlackHoleCluster} and {@code PassthroughCluster}.
 */
final class ClusterBuilder {
  private static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final int UNLIMITED = -1; // 4294967295 as an unsigned uint32
  private static final String HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
  /** Istio's InboundPassthroughBindIpv4. */
  static final String INBOUND_BIND_ADDRESS = "127.0.0.6";

  private final IstioConfig config;
  private final ServiceRegistry registry;

  ClusterBuilder(IstioConfig config, ServiceRegistry registry) {
    this.config = config;
    this.registry = registry;
  }

  record Outbound(List<Cluster> clusters, List<ClusterLoadAssignment> endpoints) {}

  /** Every outbound cluster of the mesh with its endpoints. */
  Outbound outbound() {
    List<Cluster> clusters = new ArrayList<>();
    List<ClusterLoadAssignment> endpoints = new ArrayList<>();
    for (MeshService s : registry.services()) {
      DestinationRule dr = config.destinationRule(s.hostname()).orElse(null);
      TrafficPolicy policy = dr == null ? null : dr.trafficPolicy();
      for (ServicePort p : s.ports()) {
        String name = IstioNames.outboundCluster(p.port(), "", s.hostname());
        clusters.add(eds(name, s, p, dr, null, policy));
        endpoints.add(assignment(name, s, p, Map.of()));
        if (dr == null) {
          continue;
        }
        for (DestinationRule.Subset subset : dr.subsets()) {
          String sname = IstioNames.outboundCluster(p.port(), subset.name(), s.hostname());
          clusters.add(eds(sname, s, p, dr, subset.name(), merge(policy, subset.trafficPolicy())));
          endpoints.add(assignment(sname, s, p, subset.labels()));
        }
      }
    }
    return new Outbound(clusters, endpoints);
  }

  private Cluster eds(String name, MeshService s, ServicePort p, @Nullable DestinationRule dr, @Nullable String subset,
      @Nullable TrafficPolicy policy) {
    Cluster.Builder c = Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads()).setServiceName(name))
        .setConnectTimeout(RouteBuilder.proto(policy != null && policy.connectTimeout() != null ? policy.connectTimeout() : DEFAULT_CONNECT_TIMEOUT))
        .setLbPolicy(lbPolicy(policy))
        .setCircuitBreakers(circuitBreakers(policy))
        .setMetadata(metadata(s, p, dr, subset));
    if (policy != null && policy.outlierDetection() != null) {
      c.setOutlierDetection(outlier(policy.outlierDetection()));
    }
    Any options = httpOptions(p.protocol(), policy);
    if (options != null) {
      c.putTypedExtensionProtocolOptions(HTTP_OPTIONS, options);
    }
    return c.build();
  }

  private static Cluster.LbPolicy lbPolicy(@Nullable TrafficPolicy policy) {
    String simple = policy == null ? null : policy.loadBalancer();
    if (simple == null) {
      return Cluster.LbPolicy.LEAST_REQUEST;
    }
    return switch (simple) {
      case "RANDOM" -> Cluster.LbPolicy.RANDOM;
      case "ROUND_ROBIN" -> Cluster.LbPolicy.ROUND_ROBIN;
      case "PASSTHROUGH" -> Cluster.LbPolicy.CLUSTER_PROVIDED;
      default -> Cluster.LbPolicy.LEAST_REQUEST;
    };
  }

  private static CircuitBreakers circuitBreakers(@Nullable TrafficPolicy p) {
    CircuitBreakers.Thresholds.Builder t = CircuitBreakers.Thresholds.newBuilder()
        .setMaxConnections(UInt32Value.of(p != null && p.maxConnections() != null ? p.maxConnections() : UNLIMITED))
        .setMaxPendingRequests(UInt32Value.of(p != null && p.http1MaxPendingRequests() != null ? p.http1MaxPendingRequests() : UNLIMITED))
        .setMaxRequests(UInt32Value.of(p != null && p.http2MaxRequests() != null ? p.http2MaxRequests() : UNLIMITED))
        .setMaxRetries(UInt32Value.of(p != null && p.maxRetries() != null ? p.maxRetries() : UNLIMITED))
        .setTrackRemaining(true);
    return CircuitBreakers.newBuilder().addThresholds(t).build();
  }

  /** Istio's outlier translation: an error count enables its detector at 100 % enforcement; unset ones stay off. */
  private static OutlierDetection outlier(DestinationRule.Outlier o) {
    OutlierDetection.Builder b = OutlierDetection.newBuilder();
    if (o.consecutive5xxErrors() != null) {
      b.setConsecutive5Xx(UInt32Value.of(o.consecutive5xxErrors()))
          .setEnforcingConsecutive5Xx(UInt32Value.of(o.consecutive5xxErrors() > 0 ? 100 : 0));
    } else {
      b.setEnforcingConsecutive5Xx(UInt32Value.of(0));
    }
    if (o.consecutiveGatewayErrors() != null) {
      b.setConsecutiveGatewayFailure(UInt32Value.of(o.consecutiveGatewayErrors()))
          .setEnforcingConsecutiveGatewayFailure(UInt32Value.of(o.consecutiveGatewayErrors() > 0 ? 100 : 0));
    }
    if (o.interval() != null) {
      b.setInterval(RouteBuilder.proto(o.interval()));
    }
    if (o.baseEjectionTime() != null) {
      b.setBaseEjectionTime(RouteBuilder.proto(o.baseEjectionTime()));
    }
    if (o.maxEjectionPercent() != null) {
      b.setMaxEjectionPercent(UInt32Value.of(o.maxEjectionPercent()));
    }
    return b.build();
  }

  /** HTTP/2 to the upstream for HTTP2/gRPC ports (as istiod does), plus the pool's idle timeout and requests per connection. */
  private static @Nullable Any httpOptions(String protocol, @Nullable TrafficPolicy p) {
    boolean h2 = protocol.equals(Protocols.HTTP2) || protocol.equals(Protocols.GRPC) || protocol.equals(Protocols.GRPC_WEB);
    boolean pool = p != null && (p.idleTimeout() != null || p.maxRequestsPerConnection() != null);
    if (!h2 && !pool) {
      return null;
    }
    var options = io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.newBuilder();
    var explicit = io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig.newBuilder();
    if (h2) {
      explicit.setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance());
    } else {
      explicit.setHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions.getDefaultInstance());
    }
    options.setExplicitHttpConfig(explicit);
    if (pool) {
      HttpProtocolOptions.Builder common = HttpProtocolOptions.newBuilder();
      if (p.idleTimeout() != null) {
        common.setIdleTimeout(RouteBuilder.proto(p.idleTimeout()));
      }
      if (p.maxRequestsPerConnection() != null) {
        common.setMaxRequestsPerConnection(UInt32Value.of(p.maxRequestsPerConnection()));
      }
      options.setCommonHttpProtocolOptions(common);
    }
    return Any.pack(options.build());
  }

  /** A subset's policy replaces the rule's field by field where it sets one (istiod's MergeTrafficPolicy, simplified to whole sections). */
  private static @Nullable TrafficPolicy merge(@Nullable TrafficPolicy base, @Nullable TrafficPolicy subset) {
    if (subset == null) {
      return base;
    }
    if (base == null) {
      return subset;
    }
    return new TrafficPolicy(
        subset.loadBalancer() != null ? subset.loadBalancer() : base.loadBalancer(),
        subset.maxConnections() != null ? subset.maxConnections() : base.maxConnections(),
        subset.connectTimeout() != null ? subset.connectTimeout() : base.connectTimeout(),
        subset.http1MaxPendingRequests() != null ? subset.http1MaxPendingRequests() : base.http1MaxPendingRequests(),
        subset.http2MaxRequests() != null ? subset.http2MaxRequests() : base.http2MaxRequests(),
        subset.maxRequestsPerConnection() != null ? subset.maxRequestsPerConnection() : base.maxRequestsPerConnection(),
        subset.maxRetries() != null ? subset.maxRetries() : base.maxRetries(),
        subset.idleTimeout() != null ? subset.idleTimeout() : base.idleTimeout(),
        subset.outlierDetection() != null ? subset.outlierDetection() : base.outlierDetection(),
        subset.tlsMode() != null ? subset.tlsMode() : base.tlsMode());
  }

  private static Metadata metadata(MeshService s, ServicePort p, @Nullable DestinationRule dr, @Nullable String subset) {
    Struct.Builder istio = Struct.newBuilder()
        .putFields("default_original_port", Value.newBuilder().setNumberValue(p.port()).build())
        .putFields("services", Value.newBuilder().setListValue(ListValue.newBuilder().addValues(Value.newBuilder()
            .setStructValue(Struct.newBuilder()
                .putFields("host", RouteBuilder.str(s.hostname()))
                .putFields("name", RouteBuilder.str(s.name()))
                .putFields("namespace", RouteBuilder.str(s.namespace()))))).build());
    if (dr != null) {
      istio.putFields("config", RouteBuilder.str(IstioNames.configPath("destination-rule", dr.resource().namespace(), dr.resource().name())));
    }
    if (subset != null) {
      istio.putFields("subset", RouteBuilder.str(subset));
    }
    return Metadata.newBuilder().putFilterMetadata("istio", istio.build()).build();
  }

  /** The workloads the service selects (and the subset's labels), at {@code address:targetPort} as istiod's pod IP and target port. */
  private ClusterLoadAssignment assignment(String name, MeshService s, ServicePort p, Map<String, String> subsetLabels) {
    LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder().setLocality(Locality.getDefaultInstance());
    int count = 0;
    if (!s.selector().isEmpty()) {
      for (Workload w : registry.workloads()) {
        if (w.namespace().equals(s.namespace()) && w.labels().entrySet().containsAll(s.selector().entrySet())
            && w.labels().entrySet().containsAll(subsetLabels.entrySet())) {
          locality.addLbEndpoints(LbEndpoint.newBuilder()
              .setEndpoint(Endpoint.newBuilder().setAddress(address(w.address(), p.targetPort())))
              .setHealthStatus(HealthStatus.HEALTHY)
              .setMetadata(Metadata.newBuilder().putFilterMetadata("istio", Struct.newBuilder()
                  .putFields("workload", RouteBuilder.str(workloadId(w))).build()))
              .setLoadBalancingWeight(UInt32Value.of(1)));
          count++;
        }
      }
    }
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(name);
    if (count > 0) {
      cla.addEndpoints(locality.setLoadBalancingWeight(UInt32Value.of(count)));
    }
    return cla.build();
  }

  /** istiod's {@code istio.workload} endpoint metadata: {@code name;namespace;app;version;Kubernetes}. */
  private static String workloadId(Workload w) {
    return w.name() + ";" + w.namespace() + ";" + w.labels().getOrDefault("app", "") + ";"
        + w.labels().getOrDefault("version", "") + ";Kubernetes";
  }

  /** {@code inbound|targetPort||}: straight to the application's own address (explicit mode: 127.1.N.M). */
  static Cluster inbound(MeshService s, ServicePort p, Workload w) {
    String name = IstioNames.inboundCluster(p.targetPort());
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(RouteBuilder.proto(DEFAULT_CONNECT_TIMEOUT))
        .setCircuitBreakers(circuitBreakers(null))
        .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(name)
            .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                .setEndpoint(Endpoint.newBuilder().setAddress(address(w.appAddress(), p.targetPort()))))))
        .setMetadata(metadata(s, p, null, null))
        .build();
  }

  /**
   * Transparent mode's {@code inbound|targetPort||}, as istiod makes it for a sidecar: ORIGINAL_DST
   * (the pod IP and port the client dialled) from {@value #INBOUND_BIND_ADDRESS}, the source address
   * Istio's iptables rules let out of the proxy without sending it back to 15006.
   */
  static Cluster inboundOriginalDst(MeshService s, ServicePort p) {
    return originalDst(IstioNames.inboundCluster(p.targetPort())).setMetadata(metadata(s, p, null, null)).build();
  }

  /** {@code InboundPassthroughClusterIpv4}: virtualInbound's catch-all to any other port of the pod, from 127.0.0.6. */
  static Cluster inboundPassthrough() {
    return originalDst(IstioNames.INBOUND_PASSTHROUGH).build();
  }

  private static Cluster.Builder originalDst(String name) {
    return Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.ORIGINAL_DST)
        .setConnectTimeout(RouteBuilder.proto(DEFAULT_CONNECT_TIMEOUT))
        .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .setCircuitBreakers(circuitBreakers(null))
        .setUpstreamBindConfig(BindConfig.newBuilder()
            .setSourceAddress(SocketAddress.newBuilder().setAddress(INBOUND_BIND_ADDRESS).setPortValue(0)));
  }

  static Cluster blackHole() {
    return Cluster.newBuilder().setName(IstioNames.BLACK_HOLE).setType(Cluster.DiscoveryType.STATIC)
        .setConnectTimeout(RouteBuilder.proto(DEFAULT_CONNECT_TIMEOUT)).build();
  }

  /**
   * {@code PassthroughCluster}: ORIGINAL_DST as istiod makes it. In explicit mode nothing was
   * intercepted, so the connection's original destination is the sidecar itself; there the
   * destination comes from the request's {@code :authority} (an {@code ip:port}), and a name
   * outside the registry finds no host instead of looping back into the proxy.
   */
  static Cluster passthrough(boolean explicit) {
    Cluster.Builder c = Cluster.newBuilder().setName(IstioNames.PASSTHROUGH).setType(Cluster.DiscoveryType.ORIGINAL_DST)
        .setConnectTimeout(RouteBuilder.proto(DEFAULT_CONNECT_TIMEOUT))
        .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
        .setCircuitBreakers(circuitBreakers(null));
    if (explicit) {
      c.setOriginalDstLbConfig(Cluster.OriginalDstLbConfig.newBuilder().setUseHttpHeader(true).setHttpHeaderName(":authority"));
    }
    return c.build();
  }

  static Address address(String ip, int port) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)).build();
  }

  static ConfigSource ads() {
    return ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setInitialFetchTimeout(com.google.protobuf.Duration.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3)
        .build();
  }
}
