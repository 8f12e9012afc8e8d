package dev.sluice.api.stream;

/**
 * Envoy's response flags ({@code %RESPONSE_FLAGS%}), in Envoy's order, with their short codes.
 * A stream's flags are a bit set over {@link #ordinal()}.
 */
public enum ResponseFlag {
  FAILED_LOCAL_HEALTH_CHECK("LH"),
  NO_HEALTHY_UPSTREAM("UH"),
  UPSTREAM_REQUEST_TIMEOUT("UT"),
  LOCAL_RESET("LR"),
  UPSTREAM_REMOTE_RESET("UR"),
  UPSTREAM_CONNECTION_FAILURE("UF"),
  UPSTREAM_CONNECTION_TERMINATION("UC"),
  UPSTREAM_OVERFLOW("UO"),
  NO_ROUTE_FOUND("NR"),
  DELAY_INJECTED("DI"),
  FAULT_INJECTED("FI"),
  RATE_LIMITED("RL"),
  UNAUTHORIZED_EXTERNAL_SERVICE("UAEX"),
  RATELIMIT_SERVICE_ERROR("RLSE"),
  DOWNSTREAM_CONNECTION_TERMINATION("DC"),
  UPSTREAM_RETRY_LIMIT_EXCEEDED("URX"),
  STREAM_IDLE_TIMEOUT("SI"),
  INVALID_ENVOY_REQUEST_HEADERS("IH"),
  DOWNSTREAM_PROTOCOL_ERROR("DPE"),
  UPSTREAM_MAX_STREAM_DURATION_REACHED("UMSDR"),
  RESPONSE_FROM_CACHE_FILTER("RFCF"),
  NO_FILTER_CONFIG_FOUND("NFCF"),
  DURATION_TIMEOUT("DT"),
  UPSTREAM_PROTOCOL_ERROR("UPE"),
  NO_CLUSTER_FOUND("NC"),
  OVERLOAD_MANAGER("OM"),
  DNS_RESOLUTION_FAILURE("DF"),
  DROP_OVERLOAD("DO");

  private final String code;

  ResponseFlag(String code) {
    this.code = code;
  }

  /** The short code Envoy prints in access logs, e.g. {@code UH}. */
  public String code() {
    return code;
  }

  /** Formats a flag set as Envoy does: codes joined by ',' in enum order, or "-" when empty. */
  public static String format(long flags) {
    if (flags == 0) {
      return "-";
    }
    StringBuilder sb = new StringBuilder();
    for (ResponseFlag f : values()) {
      if ((flags & (1L << f.ordinal())) != 0) {
        if (!sb.isEmpty()) {
          sb.append(',');
        }
        sb.append(f.code);
      }
    }
    return sb.toString();
  }
}
