package dev.sluice.extensions.filters.http.router;

import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.upstream.pool.ConnectionPool;
import dev.sluice.upstream.pool.PoolCallbacks;
import dev.sluice.upstream.pool.ResetReason;
import dev.sluice.upstream.pool.UpstreamResponseCallbacks;
import dev.sluice.upstream.pool.UpstreamStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One attempt of a request at one upstream host (Envoy's UpstreamRequest): waits for a pool
 * stream while holding what the router already sent it, then relays the request, runs the
 * attempt's per-try timers, and hands the upstream's answers to the router. Once {@link #done} it
 * ignores everything, so a late callback of an abandoned attempt cannot reach the client.
 */
final class UpstreamRequest implements PoolCallbacks, UpstreamResponseCallbacks {
  final RouterFilter parent;
  final Host host;
  final ClusterInfo cluster;
  private final EventExecutor loop;
  private final long perTryTimeoutNanos;
  private final long perTryIdleTimeoutNanos;
  private ConnectionPool.@Nullable Cancellable pendingPool;
  private @Nullable UpstreamStream stream;
  private @Nullable Http2Headers headers;
  private @Nullable CompositeByteBuf pendingBody;
  private @Nullable Http2Headers pendingTrailers;
  /** The whole request has been handed to this attempt. */
  private boolean encodeComplete;
  /** Request headers went out on an upstream stream (Envoy's "upstream request started"). */
  boolean requestStarted;
  boolean awaitingHeaders = true;
  boolean outlierTimeoutRecorded;
  boolean done;
  /** {@code max_requests} taken on pool ready, given back when the attempt ends. */
  private boolean holdsRequest;
  private @Nullable ScheduledFuture<?> perTryTimer;
  private @Nullable ScheduledFuture<?> perTryIdleTimer;
  final long startNanos = System.nanoTime();

  /** The circuit breakers of the route's priority. */
  private final dev.sluice.api.upstream.ResourceManager resources;

  UpstreamRequest(RouterFilter parent, Host host, ClusterInfo cluster, dev.sluice.api.upstream.ResourceManager resources,
      EventExecutor loop, long perTryTimeoutNanos, long perTryIdleTimeoutNanos) {
    this.parent = parent;
    this.host = host;
    this.cluster = cluster;
    this.resources = resources;
    this.loop = loop;
    this.perTryTimeoutNanos = perTryTimeoutNanos;
    this.perTryIdleTimeoutNanos = perTryIdleTimeoutNanos;
    cluster.stats().upstreamRqTotal.inc();
    cluster.stats().upstreamRqActive.inc();
    host.stats().rqTotal.increment();
    host.stats().rqActive.incrementAndGet();
  }

  /** Asks the pool for a stream; the headers go out as soon as there is one. */
  void start(ConnectionPool pool, Http2Headers requestHeaders, boolean endStream) {
    headers = requestHeaders;
    encodeComplete = endStream;
    ConnectionPool.Cancellable c = pool.newStream(this, this);
    if (!done && stream == null) {
      pendingPool = c;
    }
  }

  /** Takes ownership of {@code data}. */
  void encodeData(ByteBuf data, boolean endStream) {
    if (done) {
      data.release();
      return;
    }
    UpstreamStream s = stream;
    if (s == null) {
      CompositeByteBuf b = pendingBody;
      if (b == null) {
        b = data.alloc().compositeBuffer(64);
        pendingBody = b;
      }
      b.addComponent(true, data);
      encodeComplete |= endStream;
      if (b.readableBytes() > cluster.perConnectionBufferLimitBytes()) {
        // Waiting for a connection: stop reading the client instead of buffering without bound.
        parent.setRequestReadEnabled(false);
      }
      return;
    }
    s.encodeData(data, endStream);
    if (!s.isWritable()) {
      parent.setRequestReadEnabled(false);
    }
    if (endStream) {
      onEncodeComplete();
    }
  }

  void encodeTrailers(Http2Headers trailers) {
    if (done) {
      return;
    }
    UpstreamStream s = stream;
    if (s == null) {
      pendingTrailers = trailers;
      encodeComplete = true;
      return;
    }
    s.encodeTrailers(trailers);
    onEncodeComplete();
  }

  /** True once the whole request has been handed to this attempt. */
  boolean encodeComplete() {
    return encodeComplete;
  }

  private void onEncodeComplete() {
    encodeComplete = true;
    parent.onAttemptRequestSent(this);
    armPerTryTimers();
  }

  /**
   * Envoy starts the per-try timers once the attempt has a stream and the whole request: neither
   * the wait for a connection nor a slow client counts against the try.
   */
  private void armPerTryTimers() {
    if (perTryTimeoutNanos > 0 && perTryTimer == null) {
      perTryTimer = loop.schedule(() -> parent.onPerTryTimeout(this, false), perTryTimeoutNanos, TimeUnit.NANOSECONDS);
    }
    if (perTryIdleTimeoutNanos > 0 && perTryIdleTimer == null) {
      perTryIdleTimer = loop.schedule(this::onIdleTimer, perTryIdleTimeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  private long lastActivityNanos;

  /** Re-arms lazily: activity only records a time; the timer checks it when it fires. */
  private void onIdleTimer() {
    perTryIdleTimer = null;
    if (done) {
      return;
    }
    long idleFor = System.nanoTime() - Math.max(lastActivityNanos, startNanos);
    long remaining = perTryIdleTimeoutNanos - idleFor;
    if (lastActivityNanos != 0 && remaining > 0) {
      perTryIdleTimer = loop.schedule(this::onIdleTimer, remaining, TimeUnit.NANOSECONDS);
      return;
    }
    parent.onPerTryTimeout(this, true);
  }

  private void touch() {
    if (perTryIdleTimeoutNanos > 0) {
      lastActivityNanos = System.nanoTime();
    }
  }

  /** The response headers went to the client: the per-try timeout no longer applies. */
  void onHeadersForwarded() {
    awaitingHeaders = false;
    cancel(perTryTimer);
    perTryTimer = null;
  }

  // ---------------------------------------------------------------- pool answers

  @Override
  public void onPoolReady(UpstreamStream s, Host h) {
    pendingPool = null;
    if (done) {
      s.reset();
      return;
    }
    stream = s;
    holdsRequest = true;
    resources.requests().inc();
    parent.onAttemptPoolReady(this, s);
    if (done) {
      return;
    }
    Http2Headers hs = java.util.Objects.requireNonNull(headers);
    CompositeByteBuf body = pendingBody;
    Http2Headers trailers = pendingTrailers;
    pendingBody = null;
    pendingTrailers = null;
    requestStarted = true;
    s.encodeHeaders(hs, encodeComplete && body == null && trailers == null);
    if (body != null) {
      s.encodeData(body, encodeComplete && trailers == null);
      parent.setRequestReadEnabled(s.isWritable());
    }
    if (trailers != null) {
      s.encodeTrailers(trailers);
    }
    if (encodeComplete) {
      onEncodeComplete();
    }
  }

  @Override
  public void onPoolFailure(ResetReason reason, String details, Host h) {
    pendingPool = null;
    if (!done) {
      parent.onAttemptReset(this, reason, details, true);
    }
  }

  // ---------------------------------------------------------------- response

  @Override
  public void onUpstreamHeaders(Http2Headers responseHeaders, boolean endStream) {
    if (!done) {
      touch();
      parent.onAttemptHeaders(this, responseHeaders, endStream);
    }
  }

  @Override
  public void onUpstreamData(ByteBuf data, boolean endStream) {
    if (done) {
      data.release();
      return;
    }
    touch();
    parent.onAttemptData(this, data, endStream);
  }

  @Override
  public void onUpstreamTrailers(Http2Headers trailers) {
    if (!done) {
      parent.onAttemptTrailers(this, trailers);
    }
  }

  @Override
  public void onUpstreamReset(ResetReason reason, @Nullable String details) {
    if (!done) {
      stream = null;
      parent.onAttemptReset(this, reason, details, false);
    }
  }

  @Override
  public void onUpstreamWritabilityChanged(boolean writable) {
    if (!done) {
      parent.setRequestReadEnabled(writable);
    }
  }

  void setResponseReadEnabled(boolean enabled) {
    UpstreamStream s = stream;
    if (s != null && !done) {
      s.setResponseReadEnabled(enabled);
    }
  }

  // ---------------------------------------------------------------- ending

  /** The response completed: stats, and the attempt's resources back. */
  void complete() {
    if (done) {
      return;
    }
    finish();
    cluster.stats().upstreamRqCompleted.inc();
    cluster.stats().upstreamRqTime.record(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
  }

  /** Ends the attempt without resetting anything (its stream already died). */
  void finish() {
    if (done) {
      return;
    }
    done = true;
    cancel(perTryTimer);
    cancel(perTryIdleTimer);
    perTryTimer = null;
    perTryIdleTimer = null;
    if (pendingBody != null) {
      pendingBody.release();
      pendingBody = null;
    }
    cluster.stats().upstreamRqActive.dec();
    host.stats().rqActive.decrementAndGet();
    if (holdsRequest) {
      holdsRequest = false;
      resources.requests().dec();
    }
  }

  /** Abandons the attempt: cancels its wait for a connection or resets its stream ({@code upstream_rq_tx_reset}). */
  void reset() {
    if (done) {
      return;
    }
    ConnectionPool.Cancellable p = pendingPool;
    UpstreamStream s = stream;
    pendingPool = null;
    stream = null;
    finish();
    if (p != null) {
      p.cancel();
    }
    if (s != null) {
      cluster.stats().upstreamRqTxReset.inc();
      s.reset();
    }
  }

  private static void cancel(@Nullable ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }
}
