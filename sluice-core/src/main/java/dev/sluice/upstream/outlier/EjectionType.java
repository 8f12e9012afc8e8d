package dev.sluice.upstream.outlier;

/** Envoy's {@code OutlierEjectionType}, with the stat name part each uses. */
enum EjectionType {
  CONSECUTIVE_5XX("consecutive_5xx"),
  CONSECUTIVE_GATEWAY_FAILURE("consecutive_gateway_failure"),
  SUCCESS_RATE("success_rate"),
  CONSECUTIVE_LOCAL_ORIGIN_FAILURE("consecutive_local_origin_failure"),
  SUCCESS_RATE_LOCAL_ORIGIN("local_origin_success_rate"),
  FAILURE_PERCENTAGE("failure_percentage"),
  FAILURE_PERCENTAGE_LOCAL_ORIGIN("failure_percentage_local_origin");

  final String statName;

  EjectionType(String statName) {
    this.statName = statName;
  }

  /** The {@code enforcing_*} percentage of this kind of ejection. */
  int enforcing(OutlierDetectionConfig c) {
    return switch (this) {
      case CONSECUTIVE_5XX -> c.enforcingConsecutive5xx();
      case CONSECUTIVE_GATEWAY_FAILURE -> c.enforcingConsecutiveGatewayFailure();
      case SUCCESS_RATE -> c.enforcingSuccessRate();
      case CONSECUTIVE_LOCAL_ORIGIN_FAILURE -> c.enforcingConsecutiveLocalOriginFailure();
      case SUCCESS_RATE_LOCAL_ORIGIN -> c.enforcingLocalOriginSuccessRate();
      case FAILURE_PERCENTAGE -> c.enforcingFailurePercentage();
      case FAILURE_PERCENTAGE_LOCAL_ORIGIN -> c.enforcingFailurePercentageLocalOrigin();
    };
  }
}
