package dev.sluice.accesslog;

import dev.sluice.api.stream.ResponseFlag;
import java.util.EnumMap;
import java.util.Map;

/** Envoy's long (Pascal case) response flag names, printed by {@code %RESPONSE_FLAGS_LONG%}. */
final class ResponseFlagNames {
  private static final ResponseFlag[] FLAGS = ResponseFlag.values();
  private static final String[] LONG = new String[FLAGS.length];

  static {
    Map<ResponseFlag, String> m = new EnumMap<>(ResponseFlag.class);
    m.put(ResponseFlag.FAILED_LOCAL_HEALTH_CHECK, "FailedLocalHealthCheck");
    m.put(ResponseFlag.NO_HEALTHY_UPSTREAM, "NoHealthyUpstream");
    m.put(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT, "UpstreamRequestTimeout");
    m.put(ResponseFlag.LOCAL_RESET, "LocalReset");
    m.put(ResponseFlag.UPSTREAM_REMOTE_RESET, "UpstreamRemoteReset");
    m.put(ResponseFlag.UPSTREAM_CONNECTION_FAILURE, "UpstreamConnectionFailure");
    m.put(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION, "UpstreamConnectionTermination");
    m.put(ResponseFlag.UPSTREAM_OVERFLOW, "UpstreamOverflow");
    m.put(ResponseFlag.NO_ROUTE_FOUND, "NoRouteFound");
    m.put(ResponseFlag.DELAY_INJECTED, "DelayInjected");
    m.put(ResponseFlag.FAULT_INJECTED, "FaultInjected");
    m.put(ResponseFlag.RATE_LIMITED, "RateLimited");
    m.put(ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE, "UnauthorizedExternalService");
    m.put(ResponseFlag.RATELIMIT_SERVICE_ERROR, "RateLimitServiceError");
    m.put(ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION, "DownstreamConnectionTermination");
    m.put(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED, "UpstreamRetryLimitExceeded");
    m.put(ResponseFlag.STREAM_IDLE_TIMEOUT, "StreamIdleTimeout");
    m.put(ResponseFlag.INVALID_ENVOY_REQUEST_HEADERS, "InvalidEnvoyRequestHeaders");
    m.put(ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR, "DownstreamProtocolError");
    m.put(ResponseFlag.UPSTREAM_MAX_STREAM_DURATION_REACHED, "UpstreamMaxStreamDurationReached");
    m.put(ResponseFlag.RESPONSE_FROM_CACHE_FILTER, "ResponseFromCacheFilter");
    m.put(ResponseFlag.NO_FILTER_CONFIG_FOUND, "NoFilterConfigFound");
    m.put(ResponseFlag.DURATION_TIMEOUT, "DurationTimeout");
    m.put(ResponseFlag.UPSTREAM_PROTOCOL_ERROR, "UpstreamProtocolError");
    m.put(ResponseFlag.NO_CLUSTER_FOUND, "NoClusterFound");
    m.put(ResponseFlag.OVERLOAD_MANAGER, "OverloadManagerTerminated");
    m.put(ResponseFlag.DNS_RESOLUTION_FAILURE, "DnsResolutionFailed");
    m.put(ResponseFlag.DROP_OVERLOAD, "DropOverload");
    for (ResponseFlag f : ResponseFlag.values()) {
      String name = m.get(f);
      if (name == null) {
        throw new IllegalStateException("no long name for response flag " + f);
      }
      LONG[f.ordinal()] = name;
    }
  }

  private ResponseFlagNames() {}

  /**
   * Appends the flags' short ({@code UH}) or long ({@code NoHealthyUpstream}) names joined by ','
   * in Envoy's order; returns false, appending nothing, when no flag is set.
   */
  static boolean append(long flags, boolean longNames, StringBuilder out) {
    if (flags == 0) {
      return false;
    }
    boolean first = true;
    for (ResponseFlag f : FLAGS) {
      if ((flags & (1L << f.ordinal())) != 0) {
        if (!first) {
          out.append(',');
        }
        out.append(longNames ? LONG[f.ordinal()] : f.code());
        first = false;
      }
    }
    return true;
  }
}
