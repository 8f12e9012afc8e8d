package dev.sluice.extensions.filters.http.router;

import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.ResourceManager;
import dev.sluice.http.Headers;
import dev.sluice.router.RetryOn;
import dev.sluice.router.RetryPolicy;
import dev.sluice.upstream.pool.ResetReason;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * One request's retry bookkeeping (Envoy's RetryStateImpl): the conditions in force (route policy
 * merged with the {@code x-envoy-retry-on} family of request headers), the retries left, the
 * back-off, the hosts already tried, and the {@code max_retries} circuit breaker of the route's
 * priority, which a retry holds from the decision to retry until the outcome of the retried attempt
 * is known.
 */
final class RetryState {
  /** Envoy's RetryStatus. */
  enum Status {
    YES,
    NO,
    /** The cluster's retry circuit breaker (or budget) is open: flag UO. */
    NO_OVERFLOW,
    /** No retries left: flag URX. */
    NO_RETRY_LIMIT_EXCEEDED
  }

  static final AsciiString X_ENVOY_RETRIABLE_STATUS_CODES = AsciiString.cached("x-envoy-retriable-status-codes");
  static final AsciiString X_ENVOY_RETRIABLE_HEADER_NAMES = AsciiString.cached("x-envoy-retriable-header-names");
  /** A response an upstream Envoy rate limited: never retried. */
  static final AsciiString X_ENVOY_RATELIMITED = AsciiString.cached("x-envoy-ratelimited");

  private final RetryPolicy policy;
  private final ClusterInfo cluster;
  /** {@code max_retries} (or the retry budget) of the route's priority. */
  private final ResourceManager.ResourceLimit retries;
  private final int retryOn;
  private int remaining;
  private final int[] headerStatusCodes;
  private final AsciiString[] headerRetriableNames;
  private final JitteredBackOff backOff;
  private final @Nullable List<Host> attemptedHosts;
  private boolean holdsRetry;

  private RetryState(RetryPolicy policy, ClusterInfo cluster, ResourceManager resources, int retryOn,
      int remaining, int[] headerStatusCodes, AsciiString[] headerRetriableNames, RandomGenerator random) {
    this.policy = policy;
    this.cluster = cluster;
    this.retries = resources.retries();
    this.retryOn = retryOn;
    this.remaining = remaining;
    this.headerStatusCodes = headerStatusCodes;
    this.headerRetriableNames = headerRetriableNames;
    this.backOff = new JitteredBackOff(policy.baseIntervalMillis(), policy.maxIntervalMillis(), random);
    this.attemptedHosts = policy.previousHostsPredicate() ? new ArrayList<>(4) : null;
  }

  /**
   * The retry state of a request, or null when it cannot be retried (the common case costs no
   * allocation). Always consumes Envoy's retry request headers, so they never reach the upstream;
   * the connection manager has already removed them from untrusted (external) requests.
   *
   * @param resources the circuit breakers of the route's priority
   */
  static @Nullable RetryState create(@Nullable RetryPolicy routePolicy, Http2Headers request, ClusterInfo cluster,
      ResourceManager resources, RandomGenerator random) {
    RetryPolicy policy = routePolicy == null ? RetryPolicy.NONE : routePolicy;
    CharSequence on = request.getAndRemove(Headers.X_ENVOY_RETRY_ON);
    CharSequence grpcOn = request.getAndRemove(Headers.X_ENVOY_RETRY_GRPC_ON);
    CharSequence max = request.getAndRemove(Headers.X_ENVOY_MAX_RETRIES);
    CharSequence codes = request.getAndRemove(X_ENVOY_RETRIABLE_STATUS_CODES);
    CharSequence names = request.getAndRemove(X_ENVOY_RETRIABLE_HEADER_NAMES);
    request.remove(Headers.X_ENVOY_HEDGE_ON_PER_TRY_TIMEOUT);
    int retryOn = policy.retryOn();
    if (on != null) {
      retryOn |= RetryOn.parseHttp(on);
    }
    if (grpcOn != null) {
      retryOn |= RetryOn.parseGrpc(grpcOn);
    }
    if (retryOn == 0 || !policy.requestMayRetry(request)) {
      return null;
    }
    int remaining = policy.numRetries();
    if (max != null) {
      long parsed = parseUnsigned(max);
      if (parsed >= 0) {
        // The header takes precedence over num_retries.
        remaining = (int) Math.min(parsed, Integer.MAX_VALUE);
      }
    }
    return new RetryState(policy, cluster, resources, retryOn, remaining, statusCodes(codes), headerNames(names), random);
  }

  private static int[] statusCodes(@Nullable CharSequence list) {
    if (list == null) {
      return new int[0];
    }
    List<Integer> out = new ArrayList<>();
    for (String token : list.toString().split(",")) {
      long v = parseUnsigned(token.strip());
      if (v >= 0 && v <= Integer.MAX_VALUE) {
        out.add((int) v);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Envoy accepts only header names here (a presence match), not full matchers. */
  private static AsciiString[] headerNames(@Nullable CharSequence list) {
    if (list == null) {
      return new AsciiString[0];
    }
    List<AsciiString> out = new ArrayList<>();
    for (String token : list.toString().split(",")) {
      String name = token.strip();
      if (!name.isEmpty()) {
        out.add(AsciiString.of(name.toLowerCase(java.util.Locale.ROOT)));
      }
    }
    return out.toArray(new AsciiString[0]);
  }

  private static long parseUnsigned(CharSequence v) {
    int n = v.length();
    if (n == 0 || n > 18) {
      return -1;
    }
    long r = 0;
    for (int i = 0; i < n; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      r = r * 10 + (c - '0');
    }
    return r;
  }

  /** Envoy's wouldRetryFromHeaders: does this response call for a retry? */
  boolean wouldRetryFromHeaders(Http2Headers response, int status) {
    if (response.contains(X_ENVOY_RATELIMITED)) {
      return false;
    }
    if ((retryOn & RetryOn.FIVE_XX) != 0 && status >= 500 && status < 600) {
      return true;
    }
    if ((retryOn & RetryOn.GATEWAY_ERROR) != 0 && status >= 502 && status <= 504) {
      return true;
    }
    if ((retryOn & RetryOn.RETRIABLE_4XX) != 0 && status == 409) {
      return true;
    }
    if ((retryOn & RetryOn.RETRIABLE_STATUS_CODES) != 0 && retriableStatus(status)) {
      return true;
    }
    if ((retryOn & RetryOn.RETRIABLE_HEADERS) != 0 && retriableHeaders(response)) {
      return true;
    }
    if ((retryOn & RetryOn.ANY_GRPC) != 0) {
      // A trailers-only gRPC response carries grpc-status in its headers.
      int grpc = GrpcStatus.of(response);
      return grpc >= 0 && (retryOn & RetryOn.forGrpcStatus(grpc)) != 0;
    }
    return false;
  }

  private boolean retriableStatus(int status) {
    if (policy.retriableStatusCode(status)) {
      return true;
    }
    for (int c : headerStatusCodes) {
      if (c == status) {
        return true;
      }
    }
    return false;
  }

  private boolean retriableHeaders(Http2Headers response) {
    if (policy.matchesRetriableHeaders(response)) {
      return true;
    }
    for (AsciiString name : headerRetriableNames) {
      if (response.contains(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Envoy's wouldRetryFromReset: a reset (or connect failure, or per-try timeout as a local reset)
   * of an attempt; {@code requestStarted} is false while nothing was sent upstream.
   */
  boolean wouldRetryFromReset(ResetReason reason, boolean requestStarted) {
    if (reason == ResetReason.OVERFLOW) {
      return false;
    }
    if ((reason == ResetReason.CONNECTION_FAILURE || reason == ResetReason.CONNECTION_TIMEOUT)
        && (retryOn & RetryOn.CONNECT_FAILURE) != 0) {
      return true;
    }
    if ((retryOn & RetryOn.RESET_BEFORE_REQUEST) != 0 && !requestStarted) {
      return true;
    }
    if ((retryOn & (RetryOn.FIVE_XX | RetryOn.GATEWAY_ERROR | RetryOn.RESET)) != 0) {
      return true;
    }
    return (retryOn & RetryOn.REFUSED_STREAM) != 0 && reason == ResetReason.REMOTE_REFUSED_STREAM_RESET;
  }

  /**
   * Envoy's shouldRetry: the decision for an attempt's outcome. A retried attempt that needs no
   * further retry counts {@code upstream_rq_retry_success}; a retry takes one of the retries left
   * and the circuit breaker's {@code max_retries} slot.
   */
  Status shouldRetry(boolean wouldRetry) {
    if (holdsRetry && !wouldRetry) {
      cluster.stats().upstreamRqRetrySuccess.inc();
    }
    release();
    if (!wouldRetry) {
      return Status.NO;
    }
    if (remaining == 0) {
      cluster.stats().upstreamRqRetryLimitExceeded.inc();
      return Status.NO_RETRY_LIMIT_EXCEEDED;
    }
    remaining--;
    if (!retries.canCreate()) {
      cluster.stats().upstreamRqRetryOverflow.inc();
      return Status.NO_OVERFLOW;
    }
    retries.inc();
    holdsRetry = true;
    cluster.stats().upstreamRqRetry.inc();
    return Status.YES;
  }

  /** The wait before the retry just granted; counts {@code upstream_rq_retry_backoff_exponential}. */
  long nextBackOffMillis() {
    cluster.stats().upstreamRqRetryBackoffExponential.inc();
    return backOff.nextBackOffMillis();
  }

  /** Gives back the {@code max_retries} slot a granted retry holds. */
  void release() {
    if (holdsRetry) {
      holdsRetry = false;
      retries.dec();
    }
  }

  void onHostAttempted(Host host) {
    if (attemptedHosts != null) {
      attemptedHosts.add(host);
    }
  }

  /** The {@code previous_hosts} predicate: reject a host an earlier attempt used. */
  boolean shouldSelectAnotherHost(Host host) {
    return attemptedHosts != null && attemptedHosts.contains(host);
  }

  int hostSelectionMaxAttempts() {
    return policy.hostSelectionMaxAttempts();
  }
}
