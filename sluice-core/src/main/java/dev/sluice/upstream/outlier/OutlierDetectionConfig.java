package dev.sluice.upstream.outlier;

import com.google.protobuf.UInt32Value;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import java.time.Duration;

/**
 * A cluster's validated {@code outlier_detection}, with Envoy's defaults (consecutive_5xx 5,
 * interval 10 s, base_ejection_time 30 s, max_ejection_time 300 s, max_ejection_percent 10,
 * success rate: 5 hosts, 100 requests, stdev factor 1900/1000; failure percentage: threshold 85,
 * 5 hosts, 50 requests; enforcing 100 % for consecutive 5xx, success rate and local-origin
 * checks, 0 % for gateway failures and failure percentage).
 *
 * @param successRateStdevFactor {@code success_rate_stdev_factor} / 1000
 */
public record OutlierDetectionConfig(
    Duration interval,
    Duration baseEjectionTime,
    Duration maxEjectionTime,
    Duration maxEjectionTimeJitter,
    int maxEjectionPercent,
    boolean alwaysEjectOneHost,
    int consecutive5xx,
    int consecutiveGatewayFailure,
    int consecutiveLocalOriginFailure,
    boolean splitExternalLocalOriginErrors,
    int enforcingConsecutive5xx,
    int enforcingConsecutiveGatewayFailure,
    int enforcingConsecutiveLocalOriginFailure,
    int enforcingSuccessRate,
    int enforcingLocalOriginSuccessRate,
    int enforcingFailurePercentage,
    int enforcingFailurePercentageLocalOrigin,
    int successRateMinimumHosts,
    long successRateRequestVolume,
    double successRateStdevFactor,
    int failurePercentageThreshold,
    int failurePercentageMinimumHosts,
    long failurePercentageRequestVolume,
    boolean successfulActiveHealthCheckUnejectHost) {

  /** @throws ConfigException naming {@code outlier_detection.<field>} */
  public static OutlierDetectionConfig parse(OutlierDetection o) {
    try {
      Duration base = duration(o.hasBaseEjectionTime() ? o.getBaseEjectionTime() : null, "base_ejection_time", 30_000);
      return new OutlierDetectionConfig(
          duration(o.hasInterval() ? o.getInterval() : null, "interval", 10_000),
          base,
          duration(o.hasMaxEjectionTime() ? o.getMaxEjectionTime() : null, "max_ejection_time",
              Math.max(300_000, base.toMillis())),
          Duration.ofSeconds(o.getMaxEjectionTimeJitter().getSeconds(), o.getMaxEjectionTimeJitter().getNanos()),
          percent(o.hasMaxEjectionPercent() ? o.getMaxEjectionPercent() : null, "max_ejection_percent", 10),
          o.hasAlwaysEjectOneHost() && o.getAlwaysEjectOneHost().getValue(),
          value(o.hasConsecutive5Xx() ? o.getConsecutive5Xx() : null, 5),
          value(o.hasConsecutiveGatewayFailure() ? o.getConsecutiveGatewayFailure() : null, 5),
          value(o.hasConsecutiveLocalOriginFailure() ? o.getConsecutiveLocalOriginFailure() : null, 5),
          o.getSplitExternalLocalOriginErrors(),
          percent(o.hasEnforcingConsecutive5Xx() ? o.getEnforcingConsecutive5Xx() : null, "enforcing_consecutive_5xx", 100),
          percent(o.hasEnforcingConsecutiveGatewayFailure() ? o.getEnforcingConsecutiveGatewayFailure() : null,
              "enforcing_consecutive_gateway_failure", 0),
          percent(o.hasEnforcingConsecutiveLocalOriginFailure() ? o.getEnforcingConsecutiveLocalOriginFailure() : null,
              "enforcing_consecutive_local_origin_failure", 100),
          percent(o.hasEnforcingSuccessRate() ? o.getEnforcingSuccessRate() : null, "enforcing_success_rate", 100),
          percent(o.hasEnforcingLocalOriginSuccessRate() ? o.getEnforcingLocalOriginSuccessRate() : null,
              "enforcing_local_origin_success_rate", 100),
          percent(o.hasEnforcingFailurePercentage() ? o.getEnforcingFailurePercentage() : null,
              "enforcing_failure_percentage", 0),
          percent(o.hasEnforcingFailurePercentageLocalOrigin() ? o.getEnforcingFailurePercentageLocalOrigin() : null,
              "enforcing_failure_percentage_local_origin", 0),
          value(o.hasSuccessRateMinimumHosts() ? o.getSuccessRateMinimumHosts() : null, 5),
          value(o.hasSuccessRateRequestVolume() ? o.getSuccessRateRequestVolume() : null, 100),
          value(o.hasSuccessRateStdevFactor() ? o.getSuccessRateStdevFactor() : null, 1900) / 1000.0,
          percent(o.hasFailurePercentageThreshold() ? o.getFailurePercentageThreshold() : null,
              "failure_percentage_threshold", 85),
          value(o.hasFailurePercentageMinimumHosts() ? o.getFailurePercentageMinimumHosts() : null, 5),
          value(o.hasFailurePercentageRequestVolume() ? o.getFailurePercentageRequestVolume() : null, 50),
          !o.hasSuccessfulActiveHealthCheckUnejectHost() || o.getSuccessfulActiveHealthCheckUnejectHost().getValue());
    } catch (ConfigException e) {
      throw e.under("outlier_detection");
    }
  }

  private static int value(@org.jspecify.annotations.Nullable UInt32Value v, int dflt) {
    return v == null ? dflt : (int) Math.min(Integer.MAX_VALUE, v.getValue() & 0xFFFFFFFFL);
  }

  private static int percent(@org.jspecify.annotations.Nullable UInt32Value v, String path, int dflt) {
    int p = value(v, dflt);
    if (p > 100) {
      throw new ConfigException(path + ".value", "must be at most 100, got " + p);
    }
    return p;
  }

  private static Duration duration(com.google.protobuf.@org.jspecify.annotations.Nullable Duration d,
      String path, long defaultMillis) {
    if (d == null) {
      return Duration.ofMillis(defaultMillis);
    }
    Duration value = Duration.ofSeconds(d.getSeconds(), d.getNanos());
    if (value.isNegative() || value.isZero()) {
      throw new ConfigException(path, "must be greater than 0, got " + value);
    }
    return value;
  }
}
