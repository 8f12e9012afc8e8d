package dev.sluice.mesh.istio;

import dev.sluice.mesh.model.MeshResource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** A parsed DestinationRule: the host's traffic policy and its subsets. */
public record DestinationRule(MeshResource resource, String host, @Nullable TrafficPolicy trafficPolicy, List<Subset> subsets) {

  public record Subset(String name, Map<String, String> labels, @Nullable TrafficPolicy trafficPolicy) {}

  /** The parts of Istio's TrafficPolicy that map onto cluster settings; null fields are unset. */
  public record TrafficPolicy(
      @Nullable String loadBalancer,
      @Nullable Integer maxConnections,
      @Nullable Duration connectTimeout,
      @Nullable Integer http1MaxPendingRequests,
      @Nullable Integer http2MaxRequests,
      @Nullable Integer maxRequestsPerConnection,
      @Nullable Integer maxRetries,
      @Nullable Duration idleTimeout,
      @Nullable Outlier outlierDetection,
      @Nullable String tlsMode) {}

  public record Outlier(
      @Nullable Integer consecutive5xxErrors,
      @Nullable Integer consecutiveGatewayErrors,
      @Nullable Duration interval,
      @Nullable Duration baseEjectionTime,
      @Nullable Integer maxEjectionPercent,
      @Nullable Integer minHealthPercent) {}
}
