package dev.sluice.server;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.admin.AdminHandler;
import dev.sluice.admin.AdminRequest;
import dev.sluice.admin.AdminResponse;
import dev.sluice.admin.AdminServer;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.HostStats;
import dev.sluice.upstream.HealthFlag;
import dev.sluice.upstream.ClusterImpl;
import dev.sluice.upstream.HostImpl;
import dev.sluice.upstream.outlier.HostMonitor;
import dev.sluice.upstream.outlier.OutlierDetector;
import io.envoyproxy.envoy.admin.v3.ClusterStatus;
import io.envoyproxy.envoy.admin.v3.Clusters;
import io.envoyproxy.envoy.admin.v3.HostHealthStatus;
import io.envoyproxy.envoy.admin.v3.HostStatus;
import io.envoyproxy.envoy.admin.v3.SimpleMetric;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.type.v3.Percent;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code /clusters}: Envoy's text lines ({@code cluster::host::stat::value}) or, with
 * {@code ?format=json}, an {@code envoy.admin.v3.Clusters}. pilot-agent and istioctl read both.
 */
final class ClustersHandler {
  private final ClusterManager clusters;
  private final Set<String> staticClusterNames;

  /** @param staticClusterNames the bootstrap's clusters; any other was added via the API (CDS) */
  ClustersHandler(ClusterManager clusters, Set<String> staticClusterNames) {
    this.clusters = clusters;
    this.staticClusterNames = Set.copyOf(staticClusterNames);
  }

  void register(AdminServer admin) {
    admin.register("/clusters", "upstream cluster status", false, AdminHandler.sync(this::handle));
  }

  AdminResponse handle(AdminRequest request) {
    String format = request.query().first("format");
    if ("json".equals(format)) {
      return json(clustersProto(), true);
    }
    return AdminResponse.ok(text());
  }

  private List<Cluster> sorted() {
    return clusters.clusters().stream().sorted(Comparator.comparing(c -> c.info().name())).toList();
  }

  String text() {
    StringBuilder out = new StringBuilder();
    for (Cluster cluster : sorted()) {
      String name = cluster.info().name();
      var config = cluster.info().config();
      OutlierDetector detector = outlierDetector(cluster);
      if (detector != null) {
        // Envoy prints the detector's last interval first: -1 until one was computed.
        out.append(name).append("::outlier::success_rate_average::")
            .append(number(detector.successRateAverage(false))).append('\n');
        out.append(name).append("::outlier::success_rate_ejection_threshold::")
            .append(number(detector.successRateEjectionThreshold(false))).append('\n');
        out.append(name).append("::outlier::local_origin_success_rate_average::")
            .append(number(detector.successRateAverage(true))).append('\n');
        out.append(name).append("::outlier::local_origin_success_rate_ejection_threshold::")
            .append(number(detector.successRateEjectionThreshold(true))).append('\n');
      }
      for (RoutingPriority priority : List.of(RoutingPriority.DEFAULT, RoutingPriority.HIGH)) {
        Limits l = Limits.of(config.getCircuitBreakers(), priority);
        String p = name + "::" + (priority == RoutingPriority.DEFAULT ? "default" : "high") + "_priority::";
        out.append(p).append("max_connections::").append(l.connections).append('\n');
        out.append(p).append("max_pending_requests::").append(l.pending).append('\n');
        out.append(p).append("max_requests::").append(l.requests).append('\n');
        out.append(p).append("max_retries::").append(l.retries).append('\n');
      }
      out.append(name).append("::added_via_api::").append(addedViaApi(name)).append('\n');
      String eds = edsServiceName(cluster);
      if (!eds.isEmpty()) {
        out.append(name).append("::eds_service_name::").append(eds).append('\n');
      }
      for (List<Host> hosts : cluster.hostsByPriority()) {
        for (Host host : hosts) {
          String h = name + "::" + host.addressString() + "::";
          // Envoy prints the host's counters and gauges merged, sorted by name.
          hostStats(host.stats()).forEach((stat, value) ->
              out.append(h).append(stat).append("::").append(value).append('\n'));
          out.append(h).append("hostname::").append(host.hostname()).append('\n');
          out.append(h).append("health_flags::").append(healthFlags(host)).append('\n');
          out.append(h).append("weight::").append(host.weight()).append('\n');
          out.append(h).append("region::").append(host.locality().getRegion()).append('\n');
          out.append(h).append("zone::").append(host.locality().getZone()).append('\n');
          out.append(h).append("sub_zone::").append(host.locality().getSubZone()).append('\n');
          out.append(h).append("canary::").append(canary(host)).append('\n');
          out.append(h).append("priority::").append(host.priority()).append('\n');
          // -1 (Envoy's value) without outlier detection or before a success rate was computed.
          HostMonitor monitor = host.outlierMonitor() instanceof HostMonitor m ? m : null;
          out.append(h).append("success_rate::")
              .append(number(monitor == null ? -1 : monitor.successRate())).append('\n');
          out.append(h).append("local_origin_success_rate::")
              .append(number(monitor == null ? -1 : monitor.localOriginSuccessRate())).append('\n');
        }
      }
    }
    return out.toString();
  }

  Clusters clustersProto() {
    Clusters.Builder out = Clusters.newBuilder();
    for (Cluster cluster : sorted()) {
      var config = cluster.info().config();
      ClusterStatus.Builder status = ClusterStatus.newBuilder()
          .setName(cluster.info().name())
          .setAddedViaApi(addedViaApi(cluster.info().name()))
          .setObservabilityName(config.getAltStatName().isEmpty() ? config.getName() : config.getAltStatName())
          .setEdsServiceName(edsServiceName(cluster));
      CircuitBreakers.Builder breakers = CircuitBreakers.newBuilder();
      for (RoutingPriority priority : List.of(RoutingPriority.DEFAULT, RoutingPriority.HIGH)) {
        Limits l = Limits.of(config.getCircuitBreakers(), priority);
        breakers.addThresholds(CircuitBreakers.Thresholds.newBuilder()
            .setPriority(priority)
            .setMaxConnections(UInt32Value.of((int) l.connections))
            .setMaxPendingRequests(UInt32Value.of((int) l.pending))
            .setMaxRequests(UInt32Value.of((int) l.requests))
            .setMaxRetries(UInt32Value.of((int) l.retries)));
      }
      status.setCircuitBreakers(breakers);
      OutlierDetector detector = outlierDetector(cluster);
      if (detector != null && detector.successRateEjectionThreshold(false) > 0) {
        status.setSuccessRateEjectionThreshold(percent(detector.successRateEjectionThreshold(false)));
      }
      if (detector != null && detector.successRateEjectionThreshold(true) > 0) {
        status.setLocalOriginSuccessRateEjectionThreshold(percent(detector.successRateEjectionThreshold(true)));
      }
      for (List<Host> hosts : cluster.hostsByPriority()) {
        for (Host host : hosts) {
          HostStatus.Builder hs = HostStatus.newBuilder()
              .setAddress(hostAddress(host))
              .setHealthStatus(healthStatus(host))
              .setWeight(host.weight())
              .setHostname(host.hostname())
              .setPriority(host.priority())
              .setLocality(host.locality());
          if (host.outlierMonitor() instanceof HostMonitor m) {
            if (m.successRate() >= 0) {
              hs.setSuccessRate(percent(m.successRate()));
            }
            if (m.localOriginSuccessRate() >= 0) {
              hs.setLocalOriginSuccessRate(percent(m.localOriginSuccessRate()));
            }
          }
          HostStats s = host.stats();
          hs.addStats(metric("cx_connect_fail", s.cxConnectFail.sum(), SimpleMetric.Type.COUNTER));
          hs.addStats(metric("cx_total", s.cxTotal.sum(), SimpleMetric.Type.COUNTER));
          hs.addStats(metric("rq_error", s.rqError.sum(), SimpleMetric.Type.COUNTER));
          hs.addStats(metric("rq_success", s.rqSuccess.sum(), SimpleMetric.Type.COUNTER));
          hs.addStats(metric("rq_timeout", s.rqTimeout.sum(), SimpleMetric.Type.COUNTER));
          hs.addStats(metric("rq_total", s.rqTotal.sum(), SimpleMetric.Type.COUNTER));
          hs.addStats(metric("cx_active", s.cxActive.get(), SimpleMetric.Type.GAUGE));
          hs.addStats(metric("rq_active", s.rqActive.get(), SimpleMetric.Type.GAUGE));
          status.addHostStatuses(hs);
        }
      }
      out.addClusterStatuses(status);
    }
    return out.build();
  }

  private static @org.jspecify.annotations.Nullable OutlierDetector outlierDetector(Cluster cluster) {
    return cluster instanceof ClusterImpl impl ? impl.watcher(OutlierDetector.class) : null;
  }

  private static Percent percent(double value) {
    return Percent.newBuilder().setValue(value).build();
  }

  /** A double as Envoy's fmt prints it: {@code -1}, {@code 100}, {@code 93.5}. */
  static String number(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
        : Double.toString(value);
  }

  private boolean addedViaApi(String name) {
    return !staticClusterNames.contains(name);
  }

  /** A host's address for {@code /clusters?format=json}: a socket address, or a pipe's path. */
  private static Address hostAddress(Host host) {
    if (host.socketAddress() instanceof dev.sluice.listener.InternalAddress internal) {
      return Address.newBuilder().setEnvoyInternalAddress(internal.toProto()).build();
    }
    if (host.socketAddress() instanceof io.netty.channel.unix.DomainSocketAddress) {
      return Address.newBuilder().setPipe(io.envoyproxy.envoy.config.core.v3.Pipe.newBuilder()
          .setPath(host.addressString())).build();
    }
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
        .setAddress(host.address().getAddress() == null
            ? host.address().getHostString()
            : host.address().getAddress().getHostAddress())
        .setPortValue(host.address().getPort())).build();
  }

  private static String edsServiceName(Cluster cluster) {
    var config = cluster.info().config();
    return config.getType() == io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType.EDS
        ? config.getEdsClusterConfig().getServiceName() : "";
  }

  private static Map<String, Long> hostStats(HostStats s) {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("cx_active", s.cxActive.get());
    m.put("cx_connect_fail", s.cxConnectFail.sum());
    m.put("cx_total", s.cxTotal.sum());
    m.put("rq_active", s.rqActive.get());
    m.put("rq_error", s.rqError.sum());
    m.put("rq_success", s.rqSuccess.sum());
    m.put("rq_timeout", s.rqTimeout.sum());
    m.put("rq_total", s.rqTotal.sum());
    return m;
  }

  /** Envoy's HostUtility::healthFlagsToString: "healthy", or each set flag as "/name". */
  static String healthFlags(Host host) {
    if (!(host instanceof HostImpl impl)) {
      return host.healthy() ? "healthy" : "/failed_eds_health";
    }
    StringBuilder flags = new StringBuilder();
    for (HealthFlag flag : HealthFlag.values()) {
      if (impl.hasHealthFlag(flag)) {
        flags.append('/').append(flag.name().toLowerCase(java.util.Locale.ROOT));
      }
    }
    return flags.isEmpty() ? "healthy" : flags.toString();
  }

  private static HostHealthStatus healthStatus(Host host) {
    HostHealthStatus.Builder b = HostHealthStatus.newBuilder();
    if (host instanceof HostImpl impl) {
      b.setFailedActiveHealthCheck(impl.hasHealthFlag(HealthFlag.FAILED_ACTIVE_HC))
          .setFailedOutlierCheck(impl.hasHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK))
          .setFailedActiveDegradedCheck(impl.hasHealthFlag(HealthFlag.DEGRADED_ACTIVE_HC))
          .setPendingActiveHc(impl.hasHealthFlag(HealthFlag.PENDING_ACTIVE_HC))
          .setExcludedViaImmediateHcFail(impl.hasHealthFlag(HealthFlag.EXCLUDED_VIA_IMMEDIATE_HC_FAIL))
          .setActiveHcTimeout(impl.hasHealthFlag(HealthFlag.ACTIVE_HC_TIMEOUT));
      b.setEdsHealthStatus(impl.hasHealthFlag(HealthFlag.FAILED_EDS_HEALTH) ? HealthStatus.UNHEALTHY
          : impl.hasHealthFlag(HealthFlag.DEGRADED_EDS_HEALTH) ? HealthStatus.DEGRADED : HealthStatus.HEALTHY);
    } else {
      b.setEdsHealthStatus(host.healthy() ? HealthStatus.HEALTHY
          : host.degraded() ? HealthStatus.DEGRADED : HealthStatus.UNHEALTHY);
    }
    return b.build();
  }

  /** The {@code canary} key of the host's {@code envoy.lb} metadata, as Envoy reads it. */
  private static boolean canary(Host host) {
    var lb = host.metadata().getFilterMetadataMap().get("envoy.lb");
    return lb != null && lb.getFieldsMap().containsKey("canary")
        && lb.getFieldsOrThrow("canary").getBoolValue();
  }

  private static SimpleMetric metric(String name, long value, SimpleMetric.Type type) {
    return SimpleMetric.newBuilder().setName(name).setValue(value).setType(type).build();
  }

  /** Admin JSON as Envoy prints {@code /clusters} and {@code /listeners}: proto names, defaults. */
  static AdminResponse json(Message message, boolean includeDefaults) {
    JsonFormat.Printer printer = JsonFormat.printer().preservingProtoFieldNames();
    if (includeDefaults) {
      printer = printer.includingDefaultValueFields();
    }
    try {
      return AdminResponse.json(printer.print(message) + "\n");
    } catch (InvalidProtocolBufferException e) {
      return AdminResponse.text(500, "error: " + e.getMessage() + "\n");
    }
  }

  /** One priority's circuit breaker limits, with Envoy's defaults (1024, 1024, 1024, 3). */
  private record Limits(long connections, long pending, long requests, long retries) {
    static Limits of(CircuitBreakers config, RoutingPriority priority) {
      for (CircuitBreakers.Thresholds t : config.getThresholdsList()) {
        if (t.getPriority() == priority) {
          return new Limits(
              t.hasMaxConnections() ? t.getMaxConnections().getValue() & 0xFFFFFFFFL : 1024,
              t.hasMaxPendingRequests() ? t.getMaxPendingRequests().getValue() & 0xFFFFFFFFL : 1024,
              t.hasMaxRequests() ? t.getMaxRequests().getValue() & 0xFFFFFFFFL : 1024,
              t.hasMaxRetries() ? t.getMaxRetries().getValue() & 0xFFFFFFFFL : 3);
        }
      }
      return new Limits(1024, 1024, 1024, 3);
    }
  }
}
