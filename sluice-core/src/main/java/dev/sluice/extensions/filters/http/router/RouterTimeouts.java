package dev.sluice.extensions.filters.http.router;

import dev.sluice.http.GrpcTimeout;
import dev.sluice.http.Headers;
import dev.sluice.router.RetryPolicy;
import dev.sluice.router.RouteEntry;
import io.netty.handler.codec.http2.Http2Headers;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's FilterUtility::finalTimeout and setTimeoutHeaders: the request's global and per-try
 * timeouts from the route, {@code grpc-timeout} and the trusted {@code x-envoy-*} request headers
 * (the connection manager strips those from external requests), in nanoseconds, 0 meaning none.
 */
final class RouterTimeouts {
  private RouterTimeouts() {}

  /**
   * The global (route) timeout. A route with {@code max_stream_duration} has none here: the
   * connection manager's stream duration timer applies it (and {@code grpc-timeout}). With the
   * deprecated {@code max_grpc_timeout}, a gRPC request uses its {@code grpc-timeout} (absent means
   * infinite) less {@code grpc_timeout_offset}, capped at the maximum unless that is 0. Then
   * {@code x-envoy-upstream-rq-timeout-ms} overrides it and is removed; with
   * {@code respect_expected_rq_timeout}, an {@code x-envoy-expected-rq-timeout-ms} from an egress
   * proxy takes precedence.
   */
  static long global(RouteEntry r, Http2Headers headers, boolean grpcRequest, boolean respectExpected) {
    long t = 0;
    if (!r.usingNewTimeouts()) {
      Duration grpcMax = r.grpcTimeoutHeaderMax();
      if (grpcRequest && grpcMax != null) {
        CharSequence header = headers.get(Headers.GRPC_TIMEOUT);
        long g = header == null ? 0 : Math.max(0, GrpcTimeout.parseNanos(header));
        Duration offset = r.grpcTimeoutHeaderOffset();
        // The offset applies only when it leaves a positive timeout (0 means infinite).
        if (offset != null && offset.toNanos() < g) {
          g -= offset.toNanos();
        }
        long max = grpcMax.toNanos();
        if (max != 0 && (g == 0 || g > max)) {
          g = max;
        }
        t = g;
      } else {
        t = r.timeout().toNanos();
      }
    }
    CharSequence expected = respectExpected ? headers.get(Headers.X_ENVOY_EXPECTED_RQ_TIMEOUT_MS) : null;
    if (expected != null) {
      t = parseMillis(expected, t);
    } else {
      CharSequence override = headers.getAndRemove(Headers.X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS);
      if (override != null) {
        t = parseMillis(override, t);
      }
    }
    return t;
  }

  /**
   * The per-try timeout: the retry policy's, overridden by
   * {@code x-envoy-upstream-rq-per-try-timeout-ms} (removed); none when not below the global one.
   */
  static long perTry(@Nullable RetryPolicy policy, Http2Headers headers, long global) {
    long t = policy == null ? 0 : policy.perTryTimeoutNanos();
    CharSequence override = headers.getAndRemove(Headers.X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS);
    if (override != null) {
      t = parseMillis(override, t);
    }
    return global != 0 && t >= global ? 0 : t;
  }

  /**
   * Writes {@code x-envoy-expected-rq-timeout-ms} (the per-try timeout, else what is left of the
   * global one) and, for gRPC with {@code max_grpc_timeout}, the same value as {@code grpc-timeout}.
   */
  static void setHeaders(long elapsedNanos, long global, long perTry, RouteEntry r, Http2Headers headers,
      boolean insertExpected, boolean grpcRequest) {
    long expected = TimeUnit.NANOSECONDS.toMillis(perTry);
    if (expected == 0 && global > 0) {
      long g = TimeUnit.NANOSECONDS.toMillis(global);
      long elapsed = TimeUnit.NANOSECONDS.toMillis(elapsedNanos);
      expected = elapsed >= g ? 1 : g - elapsed;
    }
    if (expected <= 0) {
      return;
    }
    if (insertExpected) {
      headers.set(Headers.X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, Long.toString(expected));
    }
    if (grpcRequest && !r.usingNewTimeouts() && r.grpcTimeoutHeaderMax() != null) {
      headers.set(Headers.GRPC_TIMEOUT, GrpcTimeout.format(expected));
    }
  }

  /** A millisecond header value; Envoy ignores one that is not a plain unsigned number. */
  private static long parseMillis(CharSequence v, long fallback) {
    String s = v.toString().trim();
    if (s.isEmpty() || s.length() > 15) {
      return fallback;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return fallback;
      }
    }
    return TimeUnit.MILLISECONDS.toNanos(Long.parseLong(s));
  }
}
