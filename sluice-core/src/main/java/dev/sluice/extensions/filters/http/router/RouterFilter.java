package dev.sluice.extensions.filters.http.router;

import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterCallbacks;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.api.upstream.OutlierMonitor;
import dev.sluice.http.ActiveStream;
import dev.sluice.http.Headers;
import dev.sluice.http.LocalReplies;
import dev.sluice.http.StreamTimeouts;
import dev.sluice.http.StreamWatermarkListener;
import dev.sluice.router.HashPolicy;
import dev.sluice.router.MirrorPolicy;
import dev.sluice.router.RetryPolicy;
import dev.sluice.router.RouteEntry;
import dev.sluice.router.WeightedCluster;
import dev.sluice.upstream.pool.ConnectionPool;
import dev.sluice.upstream.pool.ConnectionPools;
import dev.sluice.upstream.pool.ResetReason;
import dev.sluice.upstream.pool.UpstreamStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's router filter: resolves the route's cluster, picks a host with the worker's load
 * balancer and relays the exchange through an {@link UpstreamRequest} per attempt, with
 * backpressure, the route and per-try timeouts, retries ({@link RetryState}), request mirroring
 * ({@link ShadowRequest}) and Envoy's local replies when the upstream fails.
 *
 * <p>A request without retry policy, retry headers or mirror allocates nothing for them: no retry
 * state, no body buffer.
 */
final class RouterFilter implements HttpFilter, StreamWatermarkListener, LoadBalancerContext {
  private final RouterConfig config;
  private ActiveStream.@Nullable Slot callbacks;
  private @Nullable ActiveStream stream;
  private @Nullable RouteEntry route;
  /** The weighted cluster picked for this request: its response header mutations apply too. */
  private @Nullable WeightedCluster pickedCluster;
  /** The route's (or picked weighted cluster's) metadata_match, for subset load balancing. */
  private io.envoyproxy.envoy.config.core.v3.@Nullable Metadata metadataMatch;
  private @Nullable Http2Headers requestHeaders;
  private @Nullable String clusterName;
  private @Nullable ClusterInfo cluster;
  /** The attempt in flight; null before the first, while backing off, and once the upstream is done. */
  private @Nullable UpstreamRequest attempt;
  private @Nullable RetryState retryState;
  /** The mirrors this request was sampled into, sent once the request is complete. */
  private @Nullable List<MirrorPolicy> mirrors;
  /** The request body kept for retries and mirrors (Envoy's retry/shadow buffer). */
  private @Nullable CompositeByteBuf retainedBody;
  private @Nullable Http2Headers retainedTrailers;
  private boolean buffering;
  private int bufferLimit;
  private boolean requestEnded;
  private long requestCompleteNanos;
  private boolean downstreamResponseStarted;
  private boolean finished;
  private boolean grpcRequest;
  private int attemptCount;
  private long globalTimeoutNanos;
  private long perTryTimeoutNanos;
  private long perTryIdleTimeoutNanos;
  private long upstreamStartNanos;
  /** The route timeout, on the connection's shared stream timer (no task scheduled per request). */
  private StreamTimeouts.@Nullable Timeout timeoutTimer;
  private @Nullable ScheduledFuture<?> backOffTimer;
  private boolean hasHash;
  private long hash;

  RouterFilter(RouterConfig config) {
    this.config = config;
  }

  @Override
  public void setCallbacks(HttpFilterCallbacks callbacks) {
    this.callbacks = (ActiveStream.Slot) callbacks;
    this.stream = this.callbacks.stream();
  }

  private ActiveStream.Slot cb() {
    return Objects.requireNonNull(callbacks);
  }

  private StreamInfo info() {
    return cb().streamInfo();
  }

  // ---------------------------------------------------------------- request

  @Override
  public FilterStatus decodeHeaders(Http2Headers headers, boolean endStream) {
    ActiveStream.Slot cb = cb();
    requestHeaders = headers;
    requestEnded = endStream;
    // Envoy's router counts every request whose headers reach it (http.<prefix>.rq_total).
    config.hcmStats().rqTotal.inc();
    RouteEntry r = cb.stream().routeEntry();
    route = r;
    StreamInfo info = info();
    if (r == null) {
      config.hcmStats().noRoute.inc();
      cb.sendLocalReply(404, "", ResponseFlag.NO_ROUTE_FOUND, "route_not_found");
      return FilterStatus.STOP_ITERATION;
    }
    switch (r.kind()) {
      case DIRECT_RESPONSE -> {
        config.hcmStats().rqDirectResponse.inc();
        String location = r.directResponseLocation(headers);
        String body = new String(r.directResponseBody(), java.nio.charset.StandardCharsets.UTF_8);
        cb.sendLocalReply(r.directResponseStatus(), body, h -> {
          if (location != null) {
            h.set(Headers.LOCATION, location);
          }
          r.applyResponseHeaderMutations(h, info);
        }, null, "direct_response");
        return FilterStatus.STOP_ITERATION;
      }
      case REDIRECT -> {
        config.hcmStats().rqRedirect.inc();
        String location = r.redirectLocation(headers);
        cb.sendLocalReply(r.redirectStatus(), "", h -> {
          h.set(Headers.LOCATION, location);
          r.applyResponseHeaderMutations(h, info);
        }, null, "via_route_redirect");
        return FilterStatus.STOP_ITERATION;
      }
      case NON_FORWARDING -> {
        cb.sendLocalReply(404, "", ResponseFlag.NO_ROUTE_FOUND, "route_not_found");
        return FilterStatus.STOP_ITERATION;
      }
      default -> {}
    }
    long random = ThreadLocalRandom.current().nextLong();
    WeightedCluster picked = r.kind() == RouteEntry.Kind.WEIGHTED_CLUSTERS ? r.pickWeightedCluster(headers, random) : null;
    pickedCluster = picked;
    String name = picked != null ? picked.clusterName(headers) : r.clusterName(headers, random);
    clusterName = name;
    Cluster c = name == null ? null : config.clusters().get(name);
    info.upstreamCluster = name;
    if (c == null) {
      config.hcmStats().noCluster.inc();
      // As Envoy, with the route's response header mutations (as every router local reply).
      cb.sendLocalReply(r.clusterNotFoundStatus(), "", h -> r.applyResponseHeaderMutations(h, info, picked),
          ResponseFlag.NO_CLUSTER_FOUND, "cluster_not_found");
      return FilterStatus.STOP_ITERATION;
    }
    ClusterInfo ci = c.info();
    cluster = ci;
    metadataMatch = picked != null ? picked.metadataMatch() : r.metadataMatch();
    HashPolicy hp = r.hashPolicy();
    if (hp != null) {
      long[] out = new long[1];
      hasHash = hp.computeHash(headers, cb.connection().remoteAddress, out);
      hash = out[0];
    }

    RetryPolicy policy = r.retryPolicy();
    grpcRequest = LocalReplies.isGrpc(headers);
    globalTimeoutNanos = RouterTimeouts.global(r, headers, grpcRequest, config.respectExpectedRqTimeout());
    perTryTimeoutNanos = RouterTimeouts.perTry(policy, headers, globalTimeoutNanos);
    perTryIdleTimeoutNanos = policy == null ? 0 : policy.perTryIdleTimeoutNanos();
    retryState = RetryState.create(policy, headers, ci, ci.resourceManager(r.routeAction().getPriority()),
        ThreadLocalRandom.current());
    if (!r.mirrorPolicies().isEmpty()) {
      mirrors = sampledMirrors(r.mirrorPolicies(), random);
    }
    buffering = retryState != null || mirrors != null;
    if (buffering) {
      bufferLimit = r.perRequestBufferLimitBytes() >= 0 ? r.perRequestBufferLimitBytes() : cb.connection().bufferLimitBytes;
    }

    Host h = chooseHost(c);
    if (h == null) {
      ci.stats().upstreamCxNoneHealthy.inc();
      sendNoHealthyUpstream();
      return FilterStatus.STOP_ITERATION;
    }
    r.finalizeRequestHeaders(headers, info, picked, !config.suppressEnvoyHeaders());
    attemptCount = 1;
    info.attemptCount = 1;
    if (r.virtualHost().includeRequestAttemptCount()) {
      headers.set(Headers.X_ENVOY_ATTEMPT_COUNT, "1");
    }
    RouterTimeouts.setHeaders(0, globalTimeoutNanos, perTryTimeoutNanos, r, headers, !config.suppressEnvoyHeaders(), grpcRequest);
    upstreamStartNanos = System.nanoTime();
    cb.stream().addWatermarkListener(this);
    startAttempt(c, h);
    if (endStream) {
      onRequestComplete();
    }
    return FilterStatus.STOP_ITERATION;
  }

  /** The mirror policies this request falls into (each policy samples on its own share). */
  private static @Nullable List<MirrorPolicy> sampledMirrors(List<MirrorPolicy> policies, long random) {
    List<MirrorPolicy> out = null;
    for (MirrorPolicy p : policies) {
      if (p.sampled(random)) {
        if (out == null) {
          out = new java.util.ArrayList<>(policies.size());
        }
        out.add(p);
      }
    }
    return out;
  }

  private @Nullable Host chooseHost(Cluster c) {
    return c.loadBalancer(cb().connection().workerIndex).chooseHost(this);
  }

  /** Starts an attempt at {@code h}, replaying what the client has sent so far. */
  private void startAttempt(Cluster c, Host h) {
    ActiveStream.Slot cb = cb();
    RouteEntry r = Objects.requireNonNull(route);
    Http2Headers headers = Objects.requireNonNull(requestHeaders);
    ClusterInfo ci = c.info();
    cluster = ci;
    if (r.autoHostRewrite() && !h.hostname().isEmpty()) {
      r.applyAutoHostRewrite(headers, h.hostname());
    }
    info().upstreamHost = h.addressString();
    RetryState rs = retryState;
    if (rs != null) {
      rs.onHostAttempted(h);
    }
    ConnectionPools.Protocol protocol = protocolFor(ci, cb.stream().encoder().protocol(), headers);
    // The route's priority picks the circuit breakers (DEFAULT or HIGH) and the pool.
    io.envoyproxy.envoy.config.core.v3.RoutingPriority priority = r.routeAction().getPriority();
    ConnectionPool pool = config.pools().get(cb.connection(), h, priority, protocol);
    UpstreamRequest ur = new UpstreamRequest(this, h, ci, ci.resourceManager(priority),
        cb.eventLoop(), perTryTimeoutNanos, perTryIdleTimeoutNanos);
    attempt = ur;
    CompositeByteBuf body = retainedBody;
    boolean hasBody = body != null && body.isReadable();
    Http2Headers trailers = retainedTrailers;
    ur.start(pool, headers, requestEnded && !hasBody && trailers == null);
    if (hasBody) {
      // A retry replays the kept body; the kept copy stays for a further retry or a mirror.
      ur.encodeData(body.retainedDuplicate(), requestEnded && trailers == null);
    }
    if (trailers != null) {
      ur.encodeTrailers(trailers);
    }
  }

  static ConnectionPools.Protocol protocolFor(ClusterInfo ci, String downstreamProtocol, Http2Headers headers) {
    if (headers.contains(Headers.UPGRADE)) {
      // Upgrades (WebSocket) travel over HTTP/1.1 upstream.
      return ConnectionPools.Protocol.HTTP1;
    }
    return switch (ci.upstreamProtocol()) {
      case HTTP2 -> ConnectionPools.Protocol.HTTP2;
      case USE_DOWNSTREAM -> downstreamProtocol.startsWith("HTTP/2") ? ConnectionPools.Protocol.HTTP2 : ConnectionPools.Protocol.HTTP1;
      // ALPN decides over TLS; the pools use HTTP/1.1 for a plaintext cluster.
      case AUTO -> ConnectionPools.Protocol.AUTO;
      default -> ConnectionPools.Protocol.HTTP1;
    };
  }

  @Override
  public FilterStatus decodeData(ByteBuf data, boolean endStream) {
    if (finished) {
      data.release();
      return FilterStatus.STOP_ITERATION;
    }
    if (endStream) {
      requestEnded = true;
    }
    if (buffering && !retain(data)) {
      return FilterStatus.STOP_ITERATION;
    }
    UpstreamRequest ur = attempt;
    if (ur != null) {
      ur.encodeData(data, endStream);
    } else {
      // Backing off (the retry replays the kept body) or the upstream already answered.
      data.release();
    }
    if (endStream) {
      onRequestComplete();
    }
    return FilterStatus.STOP_ITERATION;
  }

  /**
   * Keeps a copy of request data for retries and mirrors within the buffer limit. Past it Envoy
   * gives up on both ({@code retry_or_shadow_abandoned}); while backing off, with no attempt to
   * carry the body, the request fails with 507.
   *
   * @return false when the request ended here (data released)
   */
  private boolean retain(ByteBuf data) {
    CompositeByteBuf b = retainedBody;
    int held = b == null ? 0 : b.readableBytes();
    if ((long) held + data.readableBytes() > bufferLimit) {
      Objects.requireNonNull(cluster).stats().retryOrShadowAbandoned.inc();
      stopBuffering();
      RetryState rs = retryState;
      retryState = null;
      if (rs != null) {
        rs.release();
      }
      mirrors = null;
      if (attempt == null) {
        data.release();
        cancelBackOff();
        finishWithLocalReply(507, "exceeded request buffer limit while retrying upstream", null,
            "request_payload_exceeded_retry_buffer_limit");
        return false;
      }
      return true;
    }
    if (b == null) {
      b = data.alloc().compositeBuffer(64);
      retainedBody = b;
    }
    b.addComponent(true, data.retainedDuplicate());
    return true;
  }

  private void stopBuffering() {
    buffering = false;
    CompositeByteBuf b = retainedBody;
    retainedBody = null;
    retainedTrailers = null;
    if (b != null) {
      b.release();
    }
  }

  @Override
  public FilterStatus decodeTrailers(Http2Headers trailers) {
    if (finished) {
      return FilterStatus.STOP_ITERATION;
    }
    requestEnded = true;
    if (buffering) {
      retainedTrailers = trailers;
    }
    UpstreamRequest ur = attempt;
    if (ur != null) {
      ur.encodeTrailers(trailers);
    }
    onRequestComplete();
    return FilterStatus.STOP_ITERATION;
  }

  /**
   * The whole request is in: Envoy starts the route timeout now, and sends the mirrors their
   * copies (then the body is kept only while a retry may still need it).
   */
  private void onRequestComplete() {
    if (finished || requestCompleteNanos != 0) {
      return;
    }
    requestCompleteNanos = System.nanoTime();
    if (globalTimeoutNanos > 0) {
      StreamTimeouts.Timeout t = timeoutTimer;
      if (t == null) {
        t = timeoutTimer = new StreamTimeouts.Timeout() {
          @Override
          protected void onTimeout() {
            RouterFilter.this.onTimeout();
          }
        };
      }
      cb().stream().timeouts().schedule(t, globalTimeoutNanos);
    }
    List<MirrorPolicy> m = mirrors;
    if (m != null) {
      mirrors = null;
      sendMirrors(m);
      if (retryState == null) {
        stopBuffering();
      }
    }
  }

  private void sendMirrors(List<MirrorPolicy> policies) {
    ActiveStream.Slot cb = cb();
    Http2Headers headers = Objects.requireNonNull(requestHeaders);
    String protocol = cb.stream().encoder().protocol();
    for (MirrorPolicy p : policies) {
      String target = p.clusterName(headers);
      if (target == null) {
        continue;
      }
      CompositeByteBuf b = retainedBody;
      ShadowRequest.send(config, cb.connection(), protocol, p, target, headers,
          b == null ? null : b.retainedDuplicate(), retainedTrailers, globalTimeoutNanos);
    }
  }

  void setRequestReadEnabled(boolean enabled) {
    if (!finished) {
      cb().stream().encoder().setRequestReadEnabled(enabled);
    }
  }

  // ---------------------------------------------------------------- attempt events

  void onAttemptPoolReady(UpstreamRequest ur, UpstreamStream s) {
    info().upstreamLocalAddress = s.localAddress();
    // Envoy records a successful connection in the host's outlier detector.
    ur.host.outlierMonitor().putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_SUCCESS);
  }

  void onAttemptRequestSent(UpstreamRequest ur) {
    if (ur == attempt) {
      info().lastUpstreamTxNanos = System.nanoTime();
    }
  }

  void onAttemptHeaders(UpstreamRequest ur, Http2Headers headers, boolean endStream) {
    if (finished || ur != attempt) {
      return;
    }
    ClusterInfo ci = ur.cluster;
    Host h = ur.host;
    int status = parseStatus(headers);
    reportResponseCode(h, headers, status);
    if (headers.contains(Headers.X_ENVOY_IMMEDIATE_HEALTH_CHECK_FAIL)) {
      // The upstream is going away (e.g. an Envoy failing its health checks): its health checker
      // fails it now instead of at the next check (Envoy's HealthCheckHostMonitor).
      h.healthCheckMonitor().setUnhealthy();
    }
    RetryState rs = retryState;
    if (rs != null) {
      RetryState.Status decision = rs.shouldRetry(rs.wouldRetryFromHeaders(headers, status));
      if (decision == RetryState.Status.YES) {
        h.stats().rqError.increment();
        attempt = null;
        // A finished exchange leaves its connection to the pool; anything still in flight is reset.
        if (endStream && ur.encodeComplete()) {
          ur.finish();
        } else {
          ur.reset();
        }
        scheduleRetry(rs);
        return;
      }
      flagRetryRefusal(decision);
      // The response goes downstream: nothing can be retried any more.
      retryState = null;
      rs.release();
      if (mirrors == null) {
        stopBuffering();
      }
    }
    downstreamResponseStarted = true;
    ur.onHeadersForwarded();
    ci.stats().responseClass(status).inc();
    ci.stats().responseCode(status).inc();
    if (status >= 500) {
      h.stats().rqError.increment();
    } else {
      h.stats().rqSuccess.increment();
    }
    StreamInfo info = info();
    info.firstUpstreamRxNanos = System.nanoTime();
    if (!config.suppressEnvoyHeaders()) {
      headers.set(Headers.X_ENVOY_UPSTREAM_SERVICE_TIME,
          Long.toString(TimeUnit.NANOSECONDS.toMillis(info.firstUpstreamRxNanos - upstreamStartNanos)));
    }
    RouteEntry r = route;
    if (r != null) {
      r.applyResponseHeaderMutations(headers, info, pickedCluster);
      if (r.virtualHost().includeAttemptCountInResponse()) {
        headers.set(Headers.X_ENVOY_ATTEMPT_COUNT, Integer.toString(attemptCount));
      }
    }
    info.responseCodeDetails = "via_upstream";
    if (endStream) {
      onUpstreamComplete(ur);
    }
    cb().encodeHeaders(headers, endStream);
  }

  /**
   * Every upstream response code goes to the host's outlier detector; a trailers-only gRPC
   * response reports its {@code grpc-status} mapped to HTTP, as Envoy does.
   */
  private void reportResponseCode(Host h, Http2Headers headers, int status) {
    OutlierMonitor m = h.outlierMonitor();
    if (m == OutlierMonitor.NONE) {
      return;
    }
    int grpc = grpcRequest ? GrpcStatus.of(headers) : -1;
    m.putHttpResponseCode(grpc >= 0 ? GrpcStatus.toHttp(grpc) : status);
  }

  private void flagRetryRefusal(RetryState.Status decision) {
    if (decision == RetryState.Status.NO_OVERFLOW) {
      info().setFlag(ResponseFlag.UPSTREAM_OVERFLOW);
    } else if (decision == RetryState.Status.NO_RETRY_LIMIT_EXCEEDED) {
      info().setFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED);
    }
  }

  void onAttemptData(UpstreamRequest ur, ByteBuf data, boolean endStream) {
    if (finished || ur != attempt) {
      data.release();
      return;
    }
    if (endStream) {
      onUpstreamComplete(ur);
    }
    ActiveStream.Slot cb = cb();
    cb.encodeData(data, endStream);
    if (!endStream && !cb.stream().encoder().isWritable()) {
      ur.setResponseReadEnabled(false);
    }
  }

  void onAttemptTrailers(UpstreamRequest ur, Http2Headers trailers) {
    if (finished || ur != attempt) {
      return;
    }
    onUpstreamComplete(ur);
    cb().encodeTrailers(trailers);
  }

  /**
   * An attempt died: connect failure or overflow ({@code fromPool}) or a stream reset. Envoy tells
   * the host's outlier detector (unless the cluster's own circuit breaker refused it), retries when
   * the policy says so and nothing went downstream, else answers 503 (502 for a protocol error) or
   * resets the client.
   */
  void onAttemptReset(UpstreamRequest ur, ResetReason reason, @Nullable String details, boolean fromPool) {
    if (finished || ur != attempt) {
      ur.finish();
      return;
    }
    attempt = null;
    ur.finish();
    StreamInfo info = info();
    if (fromPool) {
      info.upstreamTransportFailureReason = details;
    } else {
      ur.cluster.stats().upstreamRqRxReset.inc();
    }
    if (reason != ResetReason.OVERFLOW && !fromPool) {
      // A reset on an established stream; the pools report connect failures and timeouts
      // themselves (PoolBase), so reporting those here would count them twice.
      ur.host.outlierMonitor().putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_FAILED);
    }
    RetryState rs = retryState;
    if (rs != null && !downstreamResponseStarted) {
      RetryState.Status decision = rs.shouldRetry(rs.wouldRetryFromReset(reason, ur.requestStarted));
      if (decision == RetryState.Status.YES) {
        scheduleRetry(rs);
        return;
      }
      flagRetryRefusal(decision);
    }
    failUpstream(ur, reason);
  }

  /**
   * A per-try timeout (or per-try idle timeout) of the current attempt: counted, reported to
   * outlier detection, the attempt reset, then retried as a reset would be (5xx, gateway-error and
   * reset cover it) or answered 504 with flag UT.
   */
  void onPerTryTimeout(UpstreamRequest ur, boolean idle) {
    if (finished || ur != attempt || ur.done) {
      return;
    }
    if (!idle && downstreamResponseStarted) {
      return; // Envoy ignores a per-try timeout once the response is streaming.
    }
    ClusterInfo ci = ur.cluster;
    (idle ? ci.stats().upstreamRqPerTryIdleTimeout : ci.stats().upstreamRqPerTryTimeout).inc();
    ur.host.stats().rqTimeout.increment();
    attempt = null;
    ur.reset();
    ur.outlierTimeoutRecorded = true;
    ur.host.outlierMonitor().putResult(OutlierMonitor.Result.LOCAL_ORIGIN_TIMEOUT);
    RetryState rs = retryState;
    if (rs != null && !downstreamResponseStarted) {
      RetryState.Status decision = rs.shouldRetry(rs.wouldRetryFromReset(ResetReason.LOCAL_RESET, true));
      if (decision == RetryState.Status.YES) {
        scheduleRetry(rs);
        return;
      }
      flagRetryRefusal(decision);
    }
    chargeUpstreamAbort(ur, 504, false);
    upstreamTimeoutAbort(idle ? "upstream_per_try_idle_timeout" : "upstream_per_try_timeout");
  }

  private void scheduleRetry(RetryState rs) {
    long ms = rs.nextBackOffMillis();
    backOffTimer = cb().eventLoop().schedule(this::doRetry, ms, TimeUnit.MILLISECONDS);
  }

  /** Envoy's doRetry: a fresh host pick on the cluster as it is now, then a new attempt. */
  private void doRetry() {
    backOffTimer = null;
    if (finished) {
      return;
    }
    attemptCount++;
    StreamInfo info = info();
    info.attemptCount = attemptCount;
    String name = Objects.requireNonNull(clusterName);
    Cluster c = config.clusters().get(name);
    Host h = c == null ? null : chooseHost(c);
    if (c == null || h == null) {
      sendNoHealthyUpstream();
      return;
    }
    RouteEntry r = Objects.requireNonNull(route);
    Http2Headers headers = Objects.requireNonNull(requestHeaders);
    if (r.virtualHost().includeRequestAttemptCount()) {
      headers.set(Headers.X_ENVOY_ATTEMPT_COUNT, Integer.toString(attemptCount));
    }
    long elapsed = requestCompleteNanos == 0 ? 0 : System.nanoTime() - requestCompleteNanos;
    RouterTimeouts.setHeaders(elapsed, globalTimeoutNanos, perTryTimeoutNanos, r, headers, !config.suppressEnvoyHeaders(), grpcRequest);
    startAttempt(c, h);
  }

  private void cancelBackOff() {
    ScheduledFuture<?> t = backOffTimer;
    backOffTimer = null;
    if (t != null) {
      t.cancel(false);
    }
  }

  @Override
  public void onDownstreamWritabilityChanged(boolean writable) {
    UpstreamRequest ur = attempt;
    if (ur != null) {
      ur.setResponseReadEnabled(writable);
    }
  }

  private void onUpstreamComplete(UpstreamRequest ur) {
    attempt = null;
    cancelTimeout();
    ur.complete();
  }

  /**
   * Envoy's chargeUpstreamAbort: a failure answered locally before any response counts as that
   * status from the upstream ({@code upstream_rq_503}, {@code upstream_rq_5xx}) and as a host error.
   */
  private void chargeUpstreamAbort(UpstreamRequest ur, int status, boolean dropped) {
    if (downstreamResponseStarted) {
      return;
    }
    ur.cluster.stats().responseClass(status).inc();
    ur.cluster.stats().responseCode(status).inc();
    if (!dropped) {
      ur.host.stats().rqError.increment();
    }
  }

  /** The final failure of the upstream: Envoy's 503 (502 for a protocol error) or a downstream reset. */
  private void failUpstream(UpstreamRequest ur, ResetReason reason) {
    StreamInfo info = info();
    info.setFlag(flagFor(reason));
    int status = reason == ResetReason.PROTOCOL_ERROR ? 502 : 503;
    chargeUpstreamAbort(ur, status, reason == ResetReason.OVERFLOW);
    if (downstreamResponseStarted) {
      info.responseCodeDetails = "upstream_reset_after_response_started{" + reason.text().replace(' ', '_') + "}";
      finish();
      cb().resetStream();
      return;
    }
    String retried = attemptCount > 1 ? "retried and the latest " : "";
    String body = reason == ResetReason.OVERFLOW
        ? "upstream connect error or disconnect/reset before headers. " + retried + "reset reason: overflow"
        : "upstream connect error or disconnect/reset before headers. " + retried + "reset reason: " + reason.text()
            + (info.upstreamTransportFailureReason != null && (reason == ResetReason.CONNECTION_FAILURE || reason == ResetReason.CONNECTION_TIMEOUT)
                ? ", transport failure reason: " + info.upstreamTransportFailureReason : "");
    // A circuit breaker's refusal tells the client it was shed, unless Envoy's headers are suppressed.
    finishWithLocalReply(status, body, null, "upstream_reset_before_response_started{" + reason.text().replace(' ', '_') + "}",
        reason == ResetReason.OVERFLOW && !config.suppressEnvoyHeaders());
  }

  private static ResponseFlag flagFor(ResetReason reason) {
    return switch (reason) {
      case CONNECTION_FAILURE, CONNECTION_TIMEOUT -> ResponseFlag.UPSTREAM_CONNECTION_FAILURE;
      case CONNECTION_TERMINATION -> ResponseFlag.UPSTREAM_CONNECTION_TERMINATION;
      case LOCAL_RESET -> ResponseFlag.LOCAL_RESET;
      case REMOTE_RESET, REMOTE_REFUSED_STREAM_RESET -> ResponseFlag.UPSTREAM_REMOTE_RESET;
      case OVERFLOW -> ResponseFlag.UPSTREAM_OVERFLOW;
      case PROTOCOL_ERROR -> ResponseFlag.UPSTREAM_PROTOCOL_ERROR;
    };
  }

  /**
   * The route timeout: every attempt in flight is counted ({@code upstream_rq_timeout}), reported
   * to outlier detection unless its per-try timeout already was, and reset; then 504 with flag UT.
   */
  private void onTimeout() {
    if (finished) {
      return;
    }
    UpstreamRequest ur = attempt;
    attempt = null;
    if (ur != null) {
      ur.cluster.stats().upstreamRqTimeout.inc();
      ur.host.stats().rqTimeout.increment();
      if (ur.awaitingHeaders) {
        if (!ur.outlierTimeoutRecorded) {
          ur.host.outlierMonitor().putResult(OutlierMonitor.Result.LOCAL_ORIGIN_TIMEOUT);
        }
        chargeUpstreamAbort(ur, 504, false);
      }
      ur.reset();
    }
    upstreamTimeoutAbort("upstream_response_timeout");
  }

  private void upstreamTimeoutAbort(String details) {
    info().setFlag(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
    if (downstreamResponseStarted) {
      info().responseCodeDetails = details;
      finish();
      cb().resetStream();
    } else {
      finishWithLocalReply(504, "upstream request timeout", null, details);
    }
  }

  private void sendNoHealthyUpstream() {
    finishWithLocalReply(503, "no healthy upstream", ResponseFlag.NO_HEALTHY_UPSTREAM, "no_healthy_upstream");
  }

  /**
   * A local reply with Envoy's router header modifications: the route's response header mutations
   * and, when the virtual host asks, {@code x-envoy-attempt-count}.
   */
  private void finishWithLocalReply(int status, String body, @Nullable ResponseFlag flag, String details) {
    finishWithLocalReply(status, body, flag, details, false);
  }

  /** @param overloaded adds {@code x-envoy-overloaded: true} (a circuit breaker shed the request) */
  private void finishWithLocalReply(int status, String body, @Nullable ResponseFlag flag, String details,
      boolean overloaded) {
    finish();
    RouteEntry r = route;
    StreamInfo info = info();
    WeightedCluster picked = pickedCluster;
    int attempts = attemptCount;
    cb().sendLocalReply(status, body, h -> {
      if (overloaded) {
        h.set(Headers.X_ENVOY_OVERLOADED, "true");
      }
      if (r != null) {
        r.applyResponseHeaderMutations(h, info, picked);
        if (attempts > 0 && r.virtualHost().includeAttemptCountInResponse()) {
          h.set(Headers.X_ENVOY_ATTEMPT_COUNT, Integer.toString(attempts));
        }
      }
    }, flag, details);
  }

  /** Ends the router's part of the stream: timers, the attempt, the retry state and kept body. */
  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    cancelTimeout();
    cancelBackOff();
    UpstreamRequest ur = attempt;
    attempt = null;
    if (ur != null) {
      ur.reset();
    }
    RetryState rs = retryState;
    retryState = null;
    if (rs != null) {
      rs.release();
    }
    mirrors = null;
    stopBuffering();
  }

  private void cancelTimeout() {
    StreamTimeouts.Timeout t = timeoutTimer;
    ActiveStream s = stream;
    if (t != null && s != null) {
      s.timeouts().cancel(t);
    }
  }

  @Override
  public void onDestroy() {
    finish();
    ActiveStream s = stream;
    if (s != null) {
      s.removeWatermarkListener(this);
    }
  }

  static int parseStatus(Http2Headers headers) {
    CharSequence s = headers.status();
    if (s == null || s.length() != 3) {
      return 0;
    }
    return (s.charAt(0) - '0') * 100 + (s.charAt(1) - '0') * 10 + (s.charAt(2) - '0');
  }

  // ---------------------------------------------------------------- LoadBalancerContext

  @Override
  public boolean hasHashKey() {
    return hasHash;
  }

  @Override
  public long hashKey() {
    return hash;
  }

  @Override
  public @Nullable InetSocketAddress originalDestination() {
    return cb().connection().localAddressRestored ? cb().connection().localAddress : null;
  }

  @Override
  public @Nullable Http2Headers downstreamHeaders() {
    return requestHeaders;
  }

  @Override
  public io.envoyproxy.envoy.config.core.v3.@Nullable Metadata metadataMatchCriteria() {
    return metadataMatch;
  }

  @Override
  public boolean shouldSelectAnotherHost(Host host) {
    RetryState rs = retryState;
    return rs != null && rs.shouldSelectAnotherHost(host);
  }

  @Override
  public int hostSelectionRetryCount() {
    RetryState rs = retryState;
    return rs == null ? 0 : rs.hostSelectionMaxAttempts();
  }
}
