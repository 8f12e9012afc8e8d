package dev.sluice.extensions.filters.http.fault;

import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterCallbacks;
import dev.sluice.api.http.Route;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.http.ActiveStream;
import dev.sluice.router.RouteEntry;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One stream of Envoy's fault filter. On the request headers, with the route's settings if it has
 * any, else the filter's: if the request is eligible (upstream cluster, downstream node, headers)
 * and {@code max_active_faults} is not reached, a delay may hold the request on a timer of the
 * stream's loop (flag {@code DI}); then (right away, or when the delay ends) an abort may answer it
 * locally with {@code fault filter abort} (flag {@code FI}). A response rate limit, decided on the
 * request headers too, slows the response body ({@link StreamRateLimiter}). Each decision draws its
 * own random value. A stream counts once in {@code active_faults} while any fault is applied to it.
 */
final class FaultFilter implements HttpFilter {
  private static final String ABORT_BODY = "fault filter abort";
  private static final String ABORT_DETAILS = "fault_filter_abort";

  private final FaultSettings defaults;
  private final FaultStats stats;
  private final LongSupplier random;
  private @Nullable HttpFilterCallbacks callbacks;
  private @Nullable ScheduledFuture<?> delayTimer;
  private boolean faultActive;
  private @Nullable StreamRateLimiter responseLimiter;

  FaultFilter(FaultSettings defaults, FaultStats stats, LongSupplier random) {
    this.defaults = defaults;
    this.stats = stats;
    this.random = random;
  }

  @Override
  public void setCallbacks(HttpFilterCallbacks callbacks) {
    this.callbacks = callbacks;
  }

  private HttpFilterCallbacks cb() {
    HttpFilterCallbacks c = callbacks;
    if (c == null) {
      throw new IllegalStateException("setCallbacks was not called");
    }
    return c;
  }

  @Override
  public FilterStatus decodeHeaders(Http2Headers headers, boolean endStream) {
    HttpFilterCallbacks c = cb();
    Route route = c.route();
    FaultSettings s = defaults;
    if (route != null) {
      String name = c instanceof ActiveStream.Slot slot ? slot.filterName() : FaultFilterFactory.NAME;
      if (route.perFilterConfig(name) instanceof FaultSettings perRoute) {
        s = perRoute;
      }
    }
    if (s.delay() == null && s.abort() == null && s.responseRateLimit() == null) {
      return FilterStatus.CONTINUE;
    }
    if (!matchesUpstreamCluster(s, route, headers) || !s.matchesRequest(headers) || overflow(s)) {
      return FilterStatus.CONTINUE;
    }
    maybeLimitResponse(s, headers);
    DelayFault delay = s.delay();
    if (delay != null && delay.percentage().enabled(headers, random.getAsLong())) {
      long millis = delay.millis(headers);
      if (millis > 0) {
        FaultSettings settings = s;
        delayTimer = c.eventLoop().schedule(() -> afterDelay(settings, headers), millis, TimeUnit.MILLISECONDS);
        stats.delaysInjected.inc();
        c.streamInfo().setFlag(ResponseFlag.DELAY_INJECTED);
        markActive();
        return FilterStatus.STOP_ITERATION;
      }
    }
    return abort(s, headers) ? FilterStatus.STOP_ITERATION : FilterStatus.CONTINUE;
  }

  private void afterDelay(FaultSettings s, Http2Headers headers) {
    delayTimer = null;
    if (!abort(s, headers)) {
      cb().continueDecoding();
    }
  }

  /**
   * Envoy's abort decision: an HTTP status wins over a gRPC one; a gRPC abort answers a gRPC request
   * with that grpc-status in a trailers-only reply (HTTP 200 to others).
   */
  private boolean abort(FaultSettings s, Http2Headers headers) {
    AbortFault abort = s.abort();
    if (abort == null || !abort.percentage().enabled(headers, random.getAsLong())) {
      return false;
    }
    int http = abort.httpStatus(headers);
    int grpc = http == AbortFault.NONE ? abort.grpcStatus(headers) : AbortFault.NONE;
    if (http == AbortFault.NONE && grpc == AbortFault.NONE) {
      return false;
    }
    markActive();
    stats.abortsInjected.inc();
    HttpFilterCallbacks c = cb();
    if (grpc != AbortFault.NONE) {
      c.sendLocalReply(200, ABORT_BODY, grpc, ResponseFlag.FAULT_INJECTED, ABORT_DETAILS);
    } else {
      c.sendLocalReply(http, ABORT_BODY, ResponseFlag.FAULT_INJECTED, ABORT_DETAILS);
    }
    return true;
  }

  /** Envoy sets the response rate limit up with the request headers ({@code response_rl_injected}). */
  private void maybeLimitResponse(FaultSettings s, Http2Headers headers) {
    ResponseRateLimit limit = s.responseRateLimit();
    if (limit == null || !(callbacks instanceof ActiveStream.Slot slot)) {
      return;
    }
    long kbps = limit.kbps(headers);
    if (kbps <= 0 || !limit.percentage().enabled(headers, random.getAsLong())) {
      return;
    }
    markActive();
    stats.responseRlInjected.inc();
    responseLimiter = new StreamRateLimiter(slot, kbps);
  }

  @Override
  public FilterStatus encodeData(ByteBuf data, boolean endStream) {
    StreamRateLimiter l = responseLimiter;
    if (l == null) {
      return FilterStatus.CONTINUE;
    }
    l.add(data);
    if (endStream && l.pending()) {
      l.holdEnd();
      return FilterStatus.STOP_ITERATION;
    }
    return FilterStatus.CONTINUE;
  }

  @Override
  public FilterStatus encodeTrailers(Http2Headers trailers) {
    StreamRateLimiter l = responseLimiter;
    if (l != null && l.pending()) {
      l.holdEnd();
      return FilterStatus.STOP_ITERATION;
    }
    return FilterStatus.CONTINUE;
  }

  /**
   * {@code upstream_cluster}: the route's cluster must be that one. A weighted-cluster route does not
   * match: its cluster is picked later, by the router.
   */
  private static boolean matchesUpstreamCluster(FaultSettings s, @Nullable Route route, Http2Headers headers) {
    String wanted = s.upstreamCluster();
    if (wanted == null) {
      return true;
    }
    if (!(route instanceof RouteEntry entry) || entry.kind() == RouteEntry.Kind.WEIGHTED_CLUSTERS) {
      return false;
    }
    return wanted.equals(entry.clusterName(headers, 0));
  }

  /** {@code max_active_faults} reached (a fuzzy limit, as Envoy's): counts {@code faults_overflow}. */
  private boolean overflow(FaultSettings s) {
    if (stats.activeFaults.value() >= s.maxActiveFaults()) {
      stats.faultsOverflow.inc();
      return true;
    }
    return false;
  }

  private void markActive() {
    if (!faultActive) {
      faultActive = true;
      stats.activeFaults.inc();
    }
  }

  @Override
  public void onDestroy() {
    StreamRateLimiter l = responseLimiter;
    responseLimiter = null;
    if (l != null) {
      l.close();
    }
    ScheduledFuture<?> t = delayTimer;
    if (t != null) {
      t.cancel(false);
      delayTimer = null;
    }
    if (faultActive) {
      faultActive = false;
      stats.activeFaults.dec();
    }
  }
}
