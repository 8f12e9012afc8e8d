package dev.sluice.upstream.health;

import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** How Envoy's HTTP health checker judges a response, for HTTP/1 and HTTP/2 alike. */
final class HttpResults {
  private HttpResults() {}

  /**
   * An expected status passes (degraded with {@code x-envoy-degraded}); a retriable one counts
   * towards the threshold; any other fails at once. With {@code service_name_matcher}, the
   * {@code x-envoy-upstream-healthchecked-cluster} header must match (counted in verify_cluster).
   */
  static CheckResult judge(HealthCheckConfig.Http http, HealthCheckStats stats, int status,
      Function<String, @Nullable String> header) {
    if (!http.expects(status)) {
      return http.retriable(status) ? CheckResult.RETRIABLE_FAILED : CheckResult.FAILED;
    }
    boolean degraded = header.apply("x-envoy-degraded") != null;
    if (http.serviceNameMatcher() != null) {
      stats.verifyCluster.inc();
      String cluster = header.apply("x-envoy-upstream-healthchecked-cluster");
      if (!http.serviceNameMatcher().matches(cluster == null ? "" : cluster)) {
        return CheckResult.FAILED;
      }
    }
    return degraded ? CheckResult.DEGRADED : CheckResult.HEALTHY;
  }
}
