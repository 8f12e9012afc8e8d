package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import io.netty.handler.codec.http2.Http2Headers;
import java.time.Duration;
import java.util.List;

/**
 * A compiled route (or virtual host) {@code retry_policy}, immutable and shared by all workers.
 * Envoy's defaults: one retry, a 25 ms base back-off capped at ten times the base.
 *
 * <p>Accepted but not acted on: {@code rate_limited_retry_back_off} (Sluice always uses the
 * jittered exponential back-off) and {@code retry_priority} (retries stay within the priority the
 * load balancer picks). {@code retry_options_predicates} and host predicates other than
 * {@code envoy.retry_host_predicates.previous_hosts} are rejected.
 */
public final class RetryPolicy {
  static final long DEFAULT_BASE_INTERVAL_MS = 25;
  static final String PREVIOUS_HOSTS = "envoy.retry_host_predicates.previous_hosts";
  static final String PREVIOUS_HOSTS_TYPE =
      "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate";

  /** The policy of a route without one: no condition, but one retry if a request header asks. */
  public static final RetryPolicy NONE =
      new RetryPolicy(0, 1, 0, 0, DEFAULT_BASE_INTERVAL_MS, 10 * DEFAULT_BASE_INTERVAL_MS, false, 0,
          new int[0], new HeaderMatcher[0], new HeaderMatcher[0]);

  private final int retryOn;
  private final int numRetries;
  private final long perTryTimeoutNanos;
  private final long perTryIdleTimeoutNanos;
  private final long baseIntervalMillis;
  private final long maxIntervalMillis;
  private final boolean previousHostsPredicate;
  private final int hostSelectionMaxAttempts;
  private final int[] retriableStatusCodes;
  private final HeaderMatcher[] retriableHeaders;
  private final HeaderMatcher[] retriableRequestHeaders;

  private RetryPolicy(
      int retryOn,
      int numRetries,
      long perTryTimeoutNanos,
      long perTryIdleTimeoutNanos,
      long baseIntervalMillis,
      long maxIntervalMillis,
      boolean previousHostsPredicate,
      int hostSelectionMaxAttempts,
      int[] retriableStatusCodes,
      HeaderMatcher[] retriableHeaders,
      HeaderMatcher[] retriableRequestHeaders) {
    this.retryOn = retryOn;
    this.numRetries = numRetries;
    this.perTryTimeoutNanos = perTryTimeoutNanos;
    this.perTryIdleTimeoutNanos = perTryIdleTimeoutNanos;
    this.baseIntervalMillis = baseIntervalMillis;
    this.maxIntervalMillis = maxIntervalMillis;
    this.previousHostsPredicate = previousHostsPredicate;
    this.hostSelectionMaxAttempts = hostSelectionMaxAttempts;
    this.retriableStatusCodes = retriableStatusCodes;
    this.retriableHeaders = retriableHeaders;
    this.retriableRequestHeaders = retriableRequestHeaders;
  }

  /**
   * Compiles a {@code RetryPolicy}.
   *
   * @param path the field path of the policy, e.g. {@code virtual_hosts[0].routes[1].route.retry_policy}
   */
  public static RetryPolicy compile(io.envoyproxy.envoy.config.route.v3.RetryPolicy p, String path) {
    // Envoy reads retry_on with both parsers: one list may mix HTTP and gRPC conditions.
    int retryOn = RetryOn.parseHttp(p.getRetryOn()) | RetryOn.parseGrpc(p.getRetryOn());
    int numRetries = p.hasNumRetries() ? p.getNumRetries().getValue() : 1;
    long perTry = p.hasPerTryTimeout() ? ProtoDurations.of(p.getPerTryTimeout(), path + ".per_try_timeout").toNanos() : 0;
    long perTryIdle =
        p.hasPerTryIdleTimeout()
            ? ProtoDurations.of(p.getPerTryIdleTimeout(), path + ".per_try_idle_timeout").toNanos()
            : 0;
    long base = DEFAULT_BASE_INTERVAL_MS;
    long max = -1;
    if (p.hasRetryBackOff()) {
      var b = p.getRetryBackOff();
      String bpath = path + ".retry_back_off";
      if (!b.hasBaseInterval()) {
        throw new ConfigException(bpath + ".base_interval", "value is required");
      }
      base = positiveMillis(b.getBaseInterval(), bpath + ".base_interval");
      if (b.hasMaxInterval()) {
        max = positiveMillis(b.getMaxInterval(), bpath + ".max_interval");
        if (max < base) {
          throw new ConfigException(bpath + ".max_interval", "max_interval must be greater than or equal to the base_interval");
        }
      }
    }
    if (max < 0) {
      max = base * 10;
    }
    boolean previousHosts = false;
    for (int i = 0; i < p.getRetryHostPredicateCount(); i++) {
      var pred = p.getRetryHostPredicate(i);
      String ppath = path + ".retry_host_predicate[" + i + "]";
      boolean known = pred.hasTypedConfig()
          ? pred.getTypedConfig().getTypeUrl().equals(PREVIOUS_HOSTS_TYPE)
          : pred.getName().equals(PREVIOUS_HOSTS);
      if (!known) {
        throw new ConfigException(ppath, "unsupported retry host predicate '" + pred.getName()
            + "'; only " + PREVIOUS_HOSTS + " is supported");
      }
      previousHosts = true;
    }
    if (p.getRetryOptionsPredicatesCount() > 0) {
      throw new ConfigException(path + ".retry_options_predicates", "retry options predicates are not supported");
    }
    long attempts = p.getHostSelectionRetryMaxAttempts();
    int[] codes = p.getRetriableStatusCodesList().stream().mapToInt(Integer::intValue).toArray();
    return new RetryPolicy(retryOn, numRetries, perTry, perTryIdle, base, max, previousHosts,
        (int) Math.max(0, Math.min(attempts, Integer.MAX_VALUE)), codes,
        matchers(p.getRetriableHeadersList(), path + ".retriable_headers"),
        matchers(p.getRetriableRequestHeadersList(), path + ".retriable_request_headers"));
  }

  /** Envoy rounds a positive interval below 1 ms up to 1 ms. */
  private static long positiveMillis(com.google.protobuf.Duration d, String path) {
    Duration v = ProtoDurations.of(d, path);
    if (v.isZero()) {
      throw new ConfigException(path, "value must be greater than 0s");
    }
    return Math.max(1, v.toMillis());
  }

  private static HeaderMatcher[] matchers(List<io.envoyproxy.envoy.config.route.v3.HeaderMatcher> list, String path) {
    HeaderMatcher[] out = new HeaderMatcher[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = HeaderMatcher.compile(list.get(i), path + "[" + i + "]");
    }
    return out;
  }

  /** The {@link RetryOn} bits of {@code retry_on}. */
  public int retryOn() {
    return retryOn;
  }

  /** {@code num_retries}, 1 by default. */
  public int numRetries() {
    return numRetries;
  }

  /** {@code per_try_timeout} in nanoseconds, 0 when none. */
  public long perTryTimeoutNanos() {
    return perTryTimeoutNanos;
  }

  /** {@code per_try_idle_timeout} in nanoseconds, 0 when none. */
  public long perTryIdleTimeoutNanos() {
    return perTryIdleTimeoutNanos;
  }

  /** {@code retry_back_off.base_interval} (25 ms by default) in milliseconds. */
  public long baseIntervalMillis() {
    return baseIntervalMillis;
  }

  /** {@code retry_back_off.max_interval} (ten times the base by default) in milliseconds. */
  public long maxIntervalMillis() {
    return maxIntervalMillis;
  }

  /** True when {@code retry_host_predicate} has {@code previous_hosts}. */
  public boolean previousHostsPredicate() {
    return previousHostsPredicate;
  }

  /** {@code host_selection_retry_max_attempts}: how often the balancer may re-pick a rejected host. */
  public int hostSelectionMaxAttempts() {
    return hostSelectionMaxAttempts;
  }

  /** True when {@code status} is one of {@code retriable_status_codes}. */
  public boolean retriableStatusCode(int status) {
    for (int c : retriableStatusCodes) {
      if (c == status) {
        return true;
      }
    }
    return false;
  }

  /** True when one of {@code retriable_headers} matches the response headers. */
  public boolean matchesRetriableHeaders(Http2Headers responseHeaders) {
    for (HeaderMatcher m : retriableHeaders) {
      if (m.matches(responseHeaders)) {
        return true;
      }
    }
    return false;
  }

  /**
   * False when {@code retriable_request_headers} is set and none matches the request: Envoy then
   * does not retry it at all.
   */
  public boolean requestMayRetry(Http2Headers requestHeaders) {
    if (retriableRequestHeaders.length == 0) {
      return true;
    }
    for (HeaderMatcher m : retriableRequestHeaders) {
      if (m.matches(requestHeaders)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return "RetryPolicy[retryOn=" + Integer.toBinaryString(retryOn) + " numRetries=" + numRetries + "]";
  }
}
