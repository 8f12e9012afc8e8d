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
import dev.sluice.api.upstream.ResourceManager;
import dev.sluice.http.ActiveStream;
import dev.sluice.http.GrpcTimeout;
import dev.sluice.http.Headers;
import dev.sluice.http.StreamWatermarkListener;
import dev.sluice.router.HashPolicy;
import dev.sluice.router.RouteEntry;
import dev.sluice.router.WeightedCluster;
import dev.sluice.upstream.pool.ConnectionPool;
import dev.sluice.upstream.pool.ConnectionPools;
import dev.sluice.upstream.pool.PoolCallbacks;
import dev.sluice.upstream.pool.ResetReason;
import dev.sluice.upstream.pool.UpstreamResponseCallbacks;
import dev.sluice.upstream.pool.UpstreamStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's router filter: resolves the route's cluster, picks a host with the worker's load
 * balancer, gets a stream from the worker's pool for that host, and relays the exchange both ways
 * with backpressure, the route timeout, and Envoy's local replies when the upstream fails.
 */
final class RouterFilter implements HttpFilter, PoolCallbacks, UpstreamResponseCallbacks, StreamWatermarkListener, LoadBalancerContext {
  private final RouterConfig config;
  private ActiveStream.@Nullable Slot callbacks;
  private @Nullable ActiveStream stream;
  private @Nullable RouteEntry route;
  /** The weighted cluster picked for this request: its response header mutations apply too. */
  private @Nullable WeightedCluster pickedCluster;
  private @Nullable Http2Headers requestHeaders;
  private @Nullable ClusterInfo cluster;
  private @Nullable ResourceManager resources;
  private @Nullable Host host;
  private ConnectionPool.@Nullable Cancellable pendingPool;
  private @Nullable UpstreamStream upstream;
  private @Nullable CompositeByteBuf bufferedBody;
  private @Nullable Http2Headers bufferedTrailers;
  private boolean requestEnded;
  private boolean upstreamRequestSent;
  private boolean responseStarted;
  private boolean upstreamDone;
  private boolean finished;
  private long timeoutNanos;
  private long upstreamStartNanos;
  private @Nullable ScheduledFuture<?> timeoutTimer;
  private boolean hasHash;
  private final long[] hash = new long[1];
  /** The route's (or picked weighted cluster's) metadata_match, for subset load balancing. */
  private io.envoyproxy.envoy.config.core.v3.@Nullable Metadata metadataMatch;

  RouterFilter(RouterConfig config) {
    this.config = config;
  }

  @Override
  public void setCallbacks(HttpFilterCallbacks callbacks) {
    this.callbacks = (ActiveStream.Slot) callbacks;
    this.stream = this.callbacks.stream();
  }

  private ActiveStream.Slot cb() {
    return java.util.Objects.requireNonNull(callbacks);
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
    String clusterName = picked != null ? picked.clusterName(headers) : r.clusterName(headers, random);
    Cluster c = clusterName == null ? null : config.clusters().get(clusterName);
    info.upstreamCluster = clusterName;
    if (c == null) {
      config.hcmStats().noCluster.inc();
      cb.sendLocalReply(r.clusterNotFoundStatus(), "", ResponseFlag.NO_CLUSTER_FOUND, "cluster_not_found");
      return FilterStatus.STOP_ITERATION;
    }
    ClusterInfo ci = c.info();
    cluster = ci;
    metadataMatch = picked != null ? picked.metadataMatch() : r.metadataMatch();
    HashPolicy hp = r.hashPolicy();
    if (hp != null) {
      hasHash = hp.computeHash(headers, cb.connection().remoteAddress, hash);
    }
    Host h = c.loadBalancer(cb.connection().workerIndex).chooseHost(this);
    if (h == null) {
      ci.stats().upstreamCxNoneHealthy.inc();
      cb.sendLocalReply(503, "no healthy upstream", ResponseFlag.NO_HEALTHY_UPSTREAM, "no_healthy_upstream");
      return FilterStatus.STOP_ITERATION;
    }
    host = h;
    info.upstreamHost = h.addressString();

    r.finalizeRequestHeaders(headers, info, picked, !config.suppressEnvoyHeaders());
    if (r.autoHostRewrite() && !h.hostname().isEmpty()) {
      r.applyAutoHostRewrite(headers, h.hostname());
    }
    timeoutNanos = computeTimeout(r, headers);
    if (timeoutNanos > 0 && !config.suppressEnvoyHeaders()) {
      headers.set(Headers.X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, Long.toString(TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
    }

    ConnectionPools.Protocol protocol = protocolFor(ci, cb.stream().encoder().protocol(), headers);
    // The route's priority picks the circuit breakers (DEFAULT or HIGH) and the pool.
    io.envoyproxy.envoy.config.core.v3.RoutingPriority priority = r.routeAction().getPriority();
    resources = dev.sluice.upstream.ClusterInfoImpl.resourceManager(ci, priority);
    ConnectionPool pool = config.pools().get(cb.connection().workerIndex, h, priority, protocol, cb.connection()::newUpstreamBootstrap);
    ci.stats().upstreamRqTotal.inc();
    ci.stats().upstreamRqActive.inc();
    h.stats().rqTotal.increment();
    h.stats().rqActive.incrementAndGet();
    resources.requests().inc();
    info.attemptCount = 1;
    upstreamStartNanos = System.nanoTime();
    cb.stream().addWatermarkListener(this);
    if (endStream) {
      onRequestComplete();
    }
    pendingPool = pool.newStream(this, this);
    return FilterStatus.STOP_ITERATION;
  }

  private static ConnectionPools.Protocol protocolFor(ClusterInfo ci, String downstreamProtocol, Http2Headers headers) {
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

  /**
   * Envoy's final timeout: the route's {@code timeout}; for gRPC with the deprecated
   * {@code max_grpc_timeout} set, the client's {@code grpc-timeout} (capped, less the offset); none
   * when the route has {@code max_stream_duration}; overridden by an internal
   * caller's {@code x-envoy-upstream-rq-timeout-ms}. 0 means none.
   */
  private long computeTimeout(RouteEntry r, Http2Headers headers) {
    // A route with max_stream_duration uses the stream duration timer (the connection manager's,
    // which also honours grpc-timeout there) instead of a router timeout, as Envoy.
    long t = r.usingNewTimeouts() ? 0 : r.timeout().toNanos();
    java.time.Duration grpcMax = r.usingNewTimeouts() ? null : r.grpcTimeoutHeaderMax();
    CharSequence grpcTimeout = headers.get(Headers.GRPC_TIMEOUT);
    if (grpcMax != null && grpcTimeout != null) {
      long g = GrpcTimeout.parseNanos(grpcTimeout);
      if (g >= 0) {
        long max = grpcMax.toNanos();
        t = max > 0 && g > max ? max : g;
        java.time.Duration off = r.grpcTimeoutHeaderOffset();
        if (off != null && t > off.toNanos()) {
          t -= off.toNanos();
        }
      }
    }
    CharSequence override = headers.get(Headers.X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS);
    if (override != null) {
      headers.remove(Headers.X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS);
      try {
        t = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(override.toString().trim()));
      } catch (NumberFormatException ignored) {
        // Envoy ignores a malformed override.
      }
    }
    return t;
  }

  @Override
  public FilterStatus decodeData(ByteBuf data, boolean endStream) {
    if (finished) {
      data.release();
      return FilterStatus.STOP_ITERATION;
    }
    if (endStream) {
      requestEnded = true;
      onRequestComplete();
    }
    UpstreamStream up = upstream;
    if (up != null && upstreamRequestSent) {
      up.encodeData(data, endStream);
      if (!up.isWritable()) {
        cb().stream().encoder().setRequestReadEnabled(false);
      }
    } else {
      bufferBody(data);
    }
    return FilterStatus.STOP_ITERATION;
  }

  private void bufferBody(ByteBuf data) {
    CompositeByteBuf b = bufferedBody;
    if (b == null) {
      b = data.alloc().compositeBuffer(64);
      bufferedBody = b;
    }
    b.addComponent(true, data);
    ClusterInfo ci = cluster;
    if (ci != null && b.readableBytes() > ci.perConnectionBufferLimitBytes()) {
      // Waiting for a connection: stop reading the client instead of buffering without bound.
      cb().stream().encoder().setRequestReadEnabled(false);
    }
  }

  @Override
  public FilterStatus decodeTrailers(Http2Headers trailers) {
    if (finished) {
      return FilterStatus.STOP_ITERATION;
    }
    requestEnded = true;
    onRequestComplete();
    UpstreamStream up = upstream;
    if (up != null && upstreamRequestSent) {
      up.encodeTrailers(trailers);
    } else {
      bufferedTrailers = trailers;
    }
    return FilterStatus.STOP_ITERATION;
  }

  /** Envoy starts the route timeout once the whole request has been received downstream. */
  private void onRequestComplete() {
    if (timeoutNanos > 0 && timeoutTimer == null && !finished) {
      timeoutTimer = cb().eventLoop().schedule(this::onTimeout, timeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  // ---------------------------------------------------------------- pool answers

  @Override
  public void onPoolReady(UpstreamStream stream, Host h) {
    pendingPool = null;
    if (finished) {
      stream.reset();
      return;
    }
    upstream = stream;
    StreamInfo info = info();
    info.upstreamLocalAddress = stream.localAddress();
    Http2Headers headers = java.util.Objects.requireNonNull(requestHeaders);
    CompositeByteBuf body = bufferedBody;
    Http2Headers trailers = bufferedTrailers;
    bufferedBody = null;
    bufferedTrailers = null;
    boolean headersOnly = requestEnded && body == null && trailers == null;
    upstreamRequestSent = true;
    stream.encodeHeaders(headers, headersOnly);
    if (body != null) {
      stream.encodeData(body, requestEnded && trailers == null);
      cb().stream().encoder().setRequestReadEnabled(stream.isWritable());
    }
    if (trailers != null) {
      stream.encodeTrailers(trailers);
    }
    if (requestEnded) {
      info.lastUpstreamTxNanos = System.nanoTime();
    }
  }

  @Override
  public void onPoolFailure(ResetReason reason, String details, Host h) {
    pendingPool = null;
    if (finished) {
      return;
    }
    info().upstreamTransportFailureReason = details;
    failUpstream(reason);
  }

  // ---------------------------------------------------------------- response

  @Override
  public void onUpstreamHeaders(Http2Headers headers, boolean endStream) {
    if (finished) {
      return;
    }
    responseStarted = true;
    ClusterInfo ci = java.util.Objects.requireNonNull(cluster);
    int status = parseStatus(headers);
    ci.stats().responseClass(status).inc();
    ci.stats().responseCode(status).inc();
    Host h = host;
    if (h != null) {
      if (status >= 500) {
        h.stats().rqError.increment();
      } else {
        h.stats().rqSuccess.increment();
      }
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
    }
    info.responseCodeDetails = "via_upstream";
    if (endStream) {
      onUpstreamComplete();
    }
    cb().encodeHeaders(headers, endStream);
  }

  @Override
  public void onUpstreamData(ByteBuf data, boolean endStream) {
    if (finished) {
      data.release();
      return;
    }
    if (endStream) {
      onUpstreamComplete();
    }
    ActiveStream.Slot cb = cb();
    cb.encodeData(data, endStream);
    UpstreamStream up = upstream;
    if (up != null && !endStream && !cb.stream().encoder().isWritable()) {
      up.setResponseReadEnabled(false);
    }
  }

  @Override
  public void onUpstreamTrailers(Http2Headers trailers) {
    if (finished) {
      return;
    }
    onUpstreamComplete();
    cb().encodeTrailers(trailers);
  }

  @Override
  public void onUpstreamReset(ResetReason reason, @Nullable String details) {
    if (finished || upstreamDone) {
      return;
    }
    upstream = null;
    ClusterInfo ci = cluster;
    if (ci != null) {
      ci.stats().upstreamRqRxReset.inc();
    }
    failUpstream(reason);
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    if (!finished) {
      cb().stream().encoder().setRequestReadEnabled(writable);
    }
  }

  @Override
  public void onDownstreamWritabilityChanged(boolean writable) {
    UpstreamStream up = upstream;
    if (up != null && !upstreamDone) {
      up.setResponseReadEnabled(writable);
    }
  }

  private void onUpstreamComplete() {
    if (upstreamDone) {
      return;
    }
    upstreamDone = true;
    cancelTimeout();
    ClusterInfo ci = java.util.Objects.requireNonNull(cluster);
    ci.stats().upstreamRqCompleted.inc();
    ci.stats().upstreamRqTime.record(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - upstreamStartNanos));
    releaseRequestAccounting();
  }

  /**
   * The upstream failed (connect, reset, overflow, timeout): Envoy's 503 (or 504) local reply when
   * nothing was sent downstream yet, else a downstream reset.
   */
  private void failUpstream(ResetReason reason) {
    StreamInfo info = info();
    info.setFlag(flagFor(reason));
    ActiveStream.Slot cb = cb();
    releaseRequestAccounting();
    upstreamDone = true;
    cancelTimeout();
    if (responseStarted) {
      info.responseCodeDetails = "upstream_reset_after_response_started{" + reason.text().replace(' ', '_') + "}";
      cb.resetStream();
      return;
    }
    String body = reason == ResetReason.OVERFLOW
        ? "upstream connect error or disconnect/reset before headers. reset reason: overflow"
        : "upstream connect error or disconnect/reset before headers. reset reason: " + reason.text()
            + (info.upstreamTransportFailureReason != null && (reason == ResetReason.CONNECTION_FAILURE || reason == ResetReason.CONNECTION_TIMEOUT)
                ? ", transport failure reason: " + info.upstreamTransportFailureReason : "");
    cb.sendLocalReply(503, body, h -> {}, null, "upstream_reset_before_response_started{" + reason.text().replace(' ', '_') + "}");
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

  private void onTimeout() {
    timeoutTimer = null;
    if (finished || upstreamDone) {
      return;
    }
    ClusterInfo ci = java.util.Objects.requireNonNull(cluster);
    ci.stats().upstreamRqTimeout.inc();
    Host h = host;
    if (h != null) {
      h.stats().rqTimeout.increment();
    }
    abandonUpstream();
    upstreamDone = true;
    releaseRequestAccounting();
    StreamInfo info = info();
    info.setFlag(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
    if (responseStarted) {
      info.responseCodeDetails = "upstream_response_timeout";
      cb().resetStream();
    } else {
      cb().sendLocalReply(504, "upstream request timeout", h2 -> {}, null, "upstream_response_timeout");
    }
  }

  private void abandonUpstream() {
    ConnectionPool.Cancellable p = pendingPool;
    pendingPool = null;
    if (p != null) {
      p.cancel();
    }
    UpstreamStream up = upstream;
    upstream = null;
    if (up != null) {
      ClusterInfo ci = cluster;
      if (ci != null) {
        ci.stats().upstreamRqTxReset.inc();
      }
      up.reset();
    }
  }

  private boolean accounted = true;

  private void releaseRequestAccounting() {
    // resources is set only where the request is counted: a request that never got that far
    // (no healthy upstream) must not decrement what it never incremented.
    ResourceManager rm = resources;
    if (!accounted || cluster == null || rm == null) {
      return;
    }
    accounted = false;
    ClusterInfo ci = cluster;
    ci.stats().upstreamRqActive.dec();
    rm.requests().dec();
    Host h = host;
    if (h != null) {
      h.stats().rqActive.decrementAndGet();
    }
  }

  private void cancelTimeout() {
    ScheduledFuture<?> t = timeoutTimer;
    timeoutTimer = null;
    if (t != null) {
      t.cancel(false);
    }
  }

  @Override
  public void onDestroy() {
    finished = true;
    cancelTimeout();
    if (!upstreamDone) {
      abandonUpstream();
      releaseRequestAccounting();
    }
    if (bufferedBody != null) {
      bufferedBody.release();
      bufferedBody = null;
    }
    ActiveStream s = stream;
    if (s != null) {
      s.removeWatermarkListener(this);
    }
  }

  private static int parseStatus(Http2Headers headers) {
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
    return hash[0];
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
}
