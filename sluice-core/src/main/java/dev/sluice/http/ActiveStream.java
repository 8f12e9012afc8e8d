package dev.sluice.http;

import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterCallbacks;
import dev.sluice.api.http.Route;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import dev.sluice.router.RouteEntry;
import dev.sluice.router.RouteTable;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP request/response exchange and its filter chain (Envoy's ActiveStream + FilterManager).
 * The codec feeds request events in; filters run in order on the way in (decode) and in reverse on
 * the way out (encode); the last filter is the router. Confined to the connection's event loop.
 *
 * <p>A filter that answers {@link FilterStatus#STOP_ITERATION} holds the chain: later request
 * (or response) events are buffered here, up to the connection's buffer limit, until it calls
 * {@code continueDecoding()} ({@code continueEncoding()}).
 */
public final class ActiveStream {
  private static final AsciiString CONTINUE_EXPECTATION = AsciiString.cached("100-continue");
  private static final AsciiString CONTINUE_STATUS = AsciiString.cached("100");
  private static final int GRPC_DEADLINE_EXCEEDED = 4;
  private final HttpConnectionManagerConfig config;
  private final HttpConnectionManagerStats stats;
  private final DownstreamConnection connection;
  private final DownstreamStreamEncoder encoder;
  private final StreamInfo info;
  private final Slot[] slots;
  /** The table this stream started with; replaced only when a virtual host arrives on demand (VHDS). */
  private @Nullable RouteTable routeTable;
  /** With {@code scoped_routes}: the scopes this stream started with; the table is chosen from its headers. */
  private final @Nullable ScopedRouteTables scopes;
  private final Runnable onComplete;
  private @Nullable RouteEntry route;
  private boolean routeResolved;
  private @Nullable List<StreamWatermarkListener> watermarkListeners;

  // Decode (request) state. Filters [0, headersSeen) have seen the request headers; data may go
  // only as far as the headers have. Held data waits for filter bufferedAt.
  private @Nullable Http2Headers requestHeaders;
  private int headersSeen;
  private int headersHeldBy = -1;
  private int bufferedAt = -1;
  private @Nullable CompositeByteBuf bufferedRequestData;
  private @Nullable Http2Headers bufferedRequestTrailers;
  private boolean requestEndStream;
  private boolean requestComplete;

  // Encode (response) state.
  private int encodeStoppedAt = -1;
  private @Nullable Http2Headers pendingResponseHeaders;
  private boolean pendingResponseHeadersEnd;
  private @Nullable CompositeByteBuf bufferedResponseData;
  private @Nullable Http2Headers bufferedResponseTrailers;
  private boolean responseEndStream;
  private boolean responseHeadersSent;
  private boolean responseComplete;
  private boolean localReplySent;
  private boolean destroyed;

  private final StreamTimeouts timeouts;
  private final StreamTimeouts.Timeout idleTimer = new StreamTimeouts.Timeout() {
    @Override
    protected void onTimeout() {
      onIdleTimerFired();
    }
  };
  private @Nullable ScheduledFuture<?> requestTimer;
  private @Nullable ScheduledFuture<?> maxDurationTimer;
  private long lastActivityNanos;
  /** The stream idle timeout in force: the connection manager's, until the route's replaces it. */
  private long idleTimeoutNanos;

  ActiveStream(
      HttpConnectionManagerConfig config,
      DownstreamConnection connection,
      DownstreamStreamEncoder encoder,
      StreamTimeouts timeouts,
      Runnable onComplete) {
    this.config = config;
    this.timeouts = timeouts;
    this.stats = config.stats();
    this.connection = connection;
    this.encoder = encoder;
    this.onComplete = onComplete;
    this.routeTable = config.routes().current();
    this.scopes = config.routes().scopes();
    this.info = StreamInfo.startNow();
    info.connectionId = connection.id;
    info.downstreamRemoteAddress = connection.remoteAddress;
    info.downstreamDirectRemoteAddress = connection.remoteAddress;
    info.downstreamLocalAddress = connection.localAddress;
    info.requestedServerName = connection.serverName;
    info.protocol = encoder.protocol();
    List<HttpConnectionManagerConfig.FilterEntry> entries = config.filters();
    this.slots = new Slot[entries.size()];
    for (int i = 0; i < slots.length; i++) {
      HttpConnectionManagerConfig.FilterEntry e = entries.get(i);
      slots[i] = new Slot(i, e.name(), e.supplier().get());
    }
    for (Slot s : slots) {
      s.filter.setCallbacks(s);
    }
    stats.downstreamRqTotal.inc();
    stats.downstreamRqActive.inc();
    if (info.protocol != null && info.protocol.startsWith("HTTP/2")) {
      stats.downstreamRqHttp2Total.inc();
    } else {
      stats.downstreamRqHttp1Total.inc();
    }
    armTimers();
  }

  public StreamInfo streamInfo() {
    return info;
  }

  public HttpConnectionManagerConfig config() {
    return config;
  }

  public DownstreamConnection connection() {
    return connection;
  }

  public DownstreamStreamEncoder encoder() {
    return encoder;
  }

  /** The connection's shared timer for per-stream timeouts (filters' timeouts cancelled by the end of the stream). */
  public StreamTimeouts timeouts() {
    return timeouts;
  }

  public boolean responseStarted() {
    return responseHeadersSent;
  }

  public boolean requestComplete() {
    return requestComplete;
  }

  /** The request headers as they are now (after filters so far); null before they arrive. */
  public @Nullable Http2Headers requestHeaders() {
    return requestHeaders;
  }

  // ---------------------------------------------------------------- timers

  private void armTimers() {
    EventExecutor loop = connection.channel.eventLoop();
    idleTimeoutNanos = config.streamIdleTimeoutNanos();
    if (idleTimeoutNanos > 0) {
      lastActivityNanos = System.nanoTime();
      timeouts.schedule(idleTimer, idleTimeoutNanos);
    }
    if (config.requestTimeoutNanos() > 0) {
      requestTimer = loop.schedule(this::onRequestTimeout, config.requestTimeoutNanos(), TimeUnit.NANOSECONDS);
    }
    if (config.maxStreamDurationNanos() > 0) {
      maxDurationTimer = loop.schedule(this::onMaxDuration, config.maxStreamDurationNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** Records activity for the stream idle timeout; the timer re-arms lazily when it fires. */
  public void touch() {
    lastActivityNanos = System.nanoTime();
  }

  private void onIdleTimerFired() {
    if (destroyed) {
      return;
    }
    long idleFor = System.nanoTime() - lastActivityNanos;
    long remaining = idleTimeoutNanos - idleFor;
    if (remaining > 0) {
      timeouts.schedule(idleTimer, remaining);
      return;
    }
    stats.downstreamRqIdleTimeout.inc();
    info.setFlag(ResponseFlag.STREAM_IDLE_TIMEOUT);
    // Envoy: 408 when no response has started, otherwise the stream is reset.
    localReplyOrReset(408, "stream timeout", "stream_idle_timeout");
  }

  private void onRequestTimeout() {
    if (destroyed || requestComplete) {
      return;
    }
    stats.downstreamRqTimeout.inc();
    localReplyOrReset(408, "request timeout", "request_overall_timeout");
  }

  private void onMaxDuration() {
    if (destroyed) {
      return;
    }
    stats.downstreamRqMaxDurationReached.inc();
    info.setFlag(ResponseFlag.DURATION_TIMEOUT);
    if (responseHeadersSent) {
      info.responseCodeDetails = "max_duration_timeout";
      resetStream();
    } else {
      // A gRPC client gets DEADLINE_EXCEEDED, whatever the HTTP status maps to (Envoy).
      sendLocalReply(408, "downstream duration timeout", null, GRPC_DEADLINE_EXCEEDED, null, "max_duration_timeout");
    }
  }

  /**
   * Envoy's refreshDurationTimeout, run once the route is known: the route's
   * {@code max_stream_duration} replaces the connection manager's; with
   * {@code grpc_timeout_header_max} set and a {@code grpc-timeout} header, the client's timeout
   * (capped by the max unless 0, less {@code grpc_timeout_header_offset}) is the limit, and is
   * written back into {@code grpc-timeout} for the upstream. Time already spent counts.
   */
  private void refreshDurationTimeout(RouteEntry r) {
    Http2Headers h = requestHeaders;
    if (h == null || destroyed) {
      return;
    }
    CharSequence header = h.get(Headers.GRPC_TIMEOUT);
    long grpcTimeout = header == null ? -1 : GrpcTimeout.parseNanos(header);
    java.time.Duration grpcMax = r.usingNewTimeouts() ? r.grpcTimeoutHeaderMax() : null;
    boolean grpc = r.usingNewTimeouts() && LocalReplies.isGrpc(h);
    long timeout;
    if (grpcTimeout < 0 || grpcMax == null) {
      java.time.Duration routeMax = r.maxStreamDuration();
      timeout = routeMax != null ? routeMax.toNanos() : config.maxStreamDurationNanos();
      if (timeout <= 0) {
        cancel(maxDurationTimer);
        maxDurationTimer = null;
        if (grpc) {
          h.remove(Headers.GRPC_TIMEOUT);
        }
        return;
      }
    } else {
      timeout = grpcTimeout;
      if (!grpcMax.isZero() && timeout > grpcMax.toNanos()) {
        timeout = grpcMax.toNanos();
      }
      java.time.Duration offset = r.grpcTimeoutHeaderOffset();
      if (timeout != 0 && offset != null) {
        timeout = offset.toNanos() < timeout ? timeout - offset.toNanos() : 0;
      }
    }
    if (grpc) {
      h.set(Headers.GRPC_TIMEOUT, GrpcTimeout.format(TimeUnit.NANOSECONDS.toMillis(timeout)));
    }
    long remaining = Math.max(0, timeout - (System.nanoTime() - info.startNanos));
    cancel(maxDurationTimer);
    maxDurationTimer = connection.channel.eventLoop().schedule(this::onMaxDuration, remaining, TimeUnit.NANOSECONDS);
  }

  /**
   * Envoy's route {@code idle_timeout}: once the route is known it replaces the connection
   * manager's {@code stream_idle_timeout}; 0 turns the idle timeout off for this stream.
   */
  private void refreshIdleTimeout(RouteEntry r) {
    java.time.Duration routeIdle = r.idleTimeout();
    if (routeIdle == null || destroyed) {
      return;
    }
    idleTimeoutNanos = routeIdle.toNanos();
    timeouts.cancel(idleTimer);
    if (idleTimeoutNanos > 0) {
      lastActivityNanos = System.nanoTime();
      timeouts.schedule(idleTimer, idleTimeoutNanos);
    }
  }

  private void localReplyOrReset(int status, String body, String details) {
    if (responseHeadersSent) {
      info.responseCodeDetails = details;
      resetStream();
    } else {
      sendLocalReply(status, body, null, details);
    }
  }

  // ---------------------------------------------------------------- request (decode) path

  /** The codec delivers the request headers (already validated and processed by the connection). */
  public void decodeHeaders(Http2Headers headers, boolean endStream) {
    requestHeaders = headers;
    info.requestHeaders = headers;
    requestEndStream = endStream;
    if (endStream) {
      onRequestComplete();
    }
    if (!config.proxy100Continue()) {
      answerExpectContinue(headers, endStream);
    }
    runDecodeHeaders(0);
  }

  /**
   * Envoy without {@code proxy_100_continue}: a request with {@code Expect: 100-continue} is told
   * to go on at once by the proxy itself (an interim 100 the filters do not see), and the header
   * is removed, so the upstream neither waits for nor answers it. Otherwise the client waits for a
   * 100 that never comes (curl: one second) before sending its body. Not to HTTP/1.0 clients
   * (RFC 9110 10.1.1), nor for a request that has no body to send.
   */
  private void answerExpectContinue(Http2Headers headers, boolean endStream) {
    CharSequence expect = headers.get(Headers.EXPECT);
    if (expect == null || !Headers.eqIgnoreCase(expect, CONTINUE_EXPECTATION)) {
      return;
    }
    headers.remove(Headers.EXPECT);
    if (!endStream && !"HTTP/1.0".equals(encoder.protocol())) {
      encoder.encodeHeaders(new DefaultHttp2Headers().status(CONTINUE_STATUS), false);
    }
  }

  public void decodeData(ByteBuf data, boolean endStream) {
    touch();
    info.bytesReceived += data.readableBytes();
    if (endStream) {
      requestEndStream = true;
      onRequestComplete();
    }
    if (destroyed || localReplySent) {
      data.release();
      return;
    }
    // With data held, the filters before the hold see the new chunk too, as in Envoy (a filter that
    // stopped with StopIterationAndBuffer is called again with each chunk): it joins the held data.
    runDecodeData(0, data, endStream);
  }

  public void decodeTrailers(Http2Headers trailers) {
    touch();
    requestEndStream = true;
    onRequestComplete();
    if (destroyed || localReplySent) {
      return;
    }
    // As data: the filters before a hold see the trailers, then they wait with the held data.
    runDecodeTrailers(0, trailers);
  }

  private void onRequestComplete() {
    if (!requestComplete) {
      requestComplete = true;
      info.lastDownstreamRxNanos = System.nanoTime();
      if (requestTimer != null) {
        requestTimer.cancel(false);
        requestTimer = null;
      }
    }
  }

  /** Holds request data for filter {@code at} (Envoy's decoder buffering), within the buffer limit. */
  private void bufferRequest(int at, ByteBuf data) {
    bufferedAt = at;
    if (bufferedRequestData == null) {
      bufferedRequestData = data.alloc().compositeBuffer(64);
    }
    if (bufferedRequestData.readableBytes() + data.readableBytes() > connection.bufferLimitBytes) {
      data.release();
      stats.downstreamRqTooLarge.inc();
      if (!responseHeadersSent) {
        sendLocalReply(413, "Payload Too Large", null, "request_payload_too_large");
      } else {
        resetStream();
      }
      return;
    }
    bufferedRequestData.addComponent(true, data);
  }

  private void runDecodeHeaders(int from) {
    for (int i = from; i < slots.length && !destroyed && !localReplySent; i++) {
      boolean end = requestEndStream && bufferedRequestData == null && bufferedRequestTrailers == null;
      FilterStatus st;
      headersSeen = i + 1;
      try {
        st = slots[i].filter.decodeHeaders(requestHeaders, end);
      } catch (RuntimeException e) {
        filterFailed(slots[i], e);
        return;
      }
      if (st == FilterStatus.STOP_ITERATION) {
        headersHeldBy = i;
        return;
      }
    }
  }

  /** Passes data through filters from {@code from}, never past the filters the headers reached. */
  private void runDecodeData(int from, ByteBuf data, boolean endStream) {
    for (int i = from; i < slots.length; i++) {
      if (destroyed || localReplySent) {
        data.release();
        return;
      }
      if (i >= headersSeen) {
        bufferRequest(i, data);
        return;
      }
      if (i == bufferedAt) {
        // Filter i-1, which held data before, now lets it go: the held data goes on with this chunk.
        bufferRequest(i, data);
        continueDecoding(i - 1);
        return;
      }
      FilterStatus st;
      try {
        st = slots[i].filter.decodeData(data, endStream);
      } catch (RuntimeException e) {
        filterFailed(slots[i], e);
        return;
      }
      if (st == FilterStatus.STOP_ITERATION) {
        if (i < slots.length - 1) {
          // StopIterationAndBuffer: this filter saw the data; the next ones wait for it.
          bufferRequest(i + 1, data);
        }
        return;
      }
    }
  }

  private void runDecodeTrailers(int from, Http2Headers trailers) {
    for (int i = from; i < slots.length && !destroyed && !localReplySent; i++) {
      if (i >= headersSeen || i == bufferedAt) {
        boolean resume = i == bufferedAt && i < headersSeen;
        bufferedAt = i;
        bufferedRequestTrailers = trailers;
        if (resume) {
          // Filter i-1, which held data, lets the request go on: held data, then the trailers.
          continueDecoding(i - 1);
        }
        return;
      }
      FilterStatus st;
      try {
        st = slots[i].filter.decodeTrailers(trailers);
      } catch (RuntimeException e) {
        filterFailed(slots[i], e);
        return;
      }
      if (st == FilterStatus.STOP_ITERATION) {
        if (i < slots.length - 1) {
          bufferedAt = i + 1;
          bufferedRequestTrailers = trailers;
        }
        return;
      }
    }
  }

  /** Filter {@code slotIndex} lets the request go on: held headers first, then held data and trailers. */
  private void continueDecoding(int slotIndex) {
    if (destroyed || localReplySent) {
      return;
    }
    if (headersHeldBy == slotIndex) {
      headersHeldBy = -1;
      runDecodeHeaders(slotIndex + 1);
      // A later filter may hold the headers again (the router always does): held data still goes
      // as far as the headers went, as Envoy calls decodeData on a filter that stopped its headers.
      if (destroyed || localReplySent) {
        return;
      }
    }
    if (bufferedAt != slotIndex + 1) {
      return;
    }
    int at = bufferedAt;
    CompositeByteBuf buffered = bufferedRequestData;
    Http2Headers trailers = bufferedRequestTrailers;
    bufferedAt = -1;
    bufferedRequestData = null;
    bufferedRequestTrailers = null;
    if (buffered != null) {
      runDecodeData(at, buffered, requestEndStream && trailers == null);
      if (bufferedAt >= 0) {
        if (trailers != null) {
          bufferedRequestTrailers = trailers;
        }
        return;
      }
    }
    if (trailers != null) {
      runDecodeTrailers(at, trailers);
    }
  }

  // ---------------------------------------------------------------- response (encode) path

  /** Response headers from filter {@code from} (the router is the last slot) toward the client. */
  void encodeHeaders(int from, Http2Headers headers, boolean endStream) {
    if (destroyed) {
      return;
    }
    touch();
    responseEndStream = endStream;
    for (int i = from; i >= 0; i--) {
      FilterStatus st;
      try {
        st = slots[i].filter.encodeHeaders(headers, endStream);
      } catch (RuntimeException e) {
        filterFailed(slots[i], e);
        return;
      }
      if (st == FilterStatus.STOP_ITERATION) {
        encodeStoppedAt = i;
        pendingResponseHeaders = headers;
        pendingResponseHeadersEnd = endStream;
        return;
      }
    }
    writeResponseHeaders(headers, endStream);
  }

  void encodeData(int from, ByteBuf data, boolean endStream) {
    if (destroyed) {
      data.release();
      return;
    }
    touch();
    if (endStream) {
      responseEndStream = true;
    }
    // Data a filter injects below itself passes even while that filter holds the response's end
    // (Envoy's injectEncodedDataToFilterChain); a filter nearer the client that stopped holds it.
    if (encodeStoppedAt >= 0 && encodeStoppedAt <= from) {
      bufferResponse(data);
      return;
    }
    for (int i = from; i >= 0; i--) {
      FilterStatus st;
      try {
        st = slots[i].filter.encodeData(data, endStream);
      } catch (RuntimeException e) {
        data.release();
        filterFailed(slots[i], e);
        return;
      }
      if (st == FilterStatus.STOP_ITERATION) {
        encodeStoppedAt = i;
        bufferResponse(data);
        return;
      }
    }
    info.bytesSent += data.readableBytes();
    encoder.encodeData(data, endStream);
    if (endStream) {
      onResponseComplete();
    }
  }

  void encodeTrailers(int from, Http2Headers trailers) {
    if (destroyed) {
      return;
    }
    touch();
    responseEndStream = true;
    if (encodeStoppedAt >= 0) {
      bufferedResponseTrailers = trailers;
      return;
    }
    for (int i = from; i >= 0; i--) {
      FilterStatus st;
      try {
        st = slots[i].filter.encodeTrailers(trailers);
      } catch (RuntimeException e) {
        filterFailed(slots[i], e);
        return;
      }
      if (st == FilterStatus.STOP_ITERATION) {
        encodeStoppedAt = i;
        bufferedResponseTrailers = trailers;
        return;
      }
    }
    info.responseTrailers = trailers;
    encoder.encodeTrailers(trailers);
    onResponseComplete();
  }

  private void bufferResponse(ByteBuf data) {
    if (bufferedResponseData == null) {
      bufferedResponseData = data.alloc().compositeBuffer(64);
    }
    if (bufferedResponseData.readableBytes() + data.readableBytes() > connection.bufferLimitBytes) {
      data.release();
      // Envoy answers 500 when a buffering encoder filter overflows before headers went out.
      if (!responseHeadersSent) {
        pendingResponseHeaders = null;
        encodeStoppedAt = -1;
        bufferedResponseData.release();
        bufferedResponseData = null;
        sendLocalReply(500, "Internal Server Error", null, "response_payload_too_large");
      } else {
        resetStream();
      }
      return;
    }
    bufferedResponseData.addComponent(true, data);
  }

  private void continueEncoding(int slotIndex) {
    if (encodeStoppedAt != slotIndex || destroyed) {
      return;
    }
    encodeStoppedAt = -1;
    Http2Headers headers = pendingResponseHeaders;
    CompositeByteBuf data = bufferedResponseData;
    Http2Headers trailers = bufferedResponseTrailers;
    pendingResponseHeaders = null;
    bufferedResponseData = null;
    bufferedResponseTrailers = null;
    int next = slotIndex - 1;
    if (headers != null) {
      boolean end = pendingResponseHeadersEnd && data == null && trailers == null;
      encodeHeaders(next, headers, end);
      if (encodeStoppedAt >= 0) {
        if (data != null) {
          bufferedResponseData = data;
        }
        bufferedResponseTrailers = trailers;
        return;
      }
    }
    if (data != null) {
      encodeData(next, data, responseEndStream && trailers == null);
      if (encodeStoppedAt >= 0) {
        bufferedResponseTrailers = trailers;
        return;
      }
    }
    if (trailers != null) {
      encodeTrailers(next, trailers);
    }
  }

  private void writeResponseHeaders(Http2Headers headers, boolean endStream) {
    ResponseHeaderProcessor.process(this, headers);
    responseHeadersSent = true;
    info.responseHeaders = headers;
    info.responseCode = parseStatus(headers);
    if (info.firstUpstreamRxNanos == 0) {
      info.firstUpstreamRxNanos = System.nanoTime();
    }
    encoder.encodeHeaders(headers, endStream);
    if (endStream) {
      onResponseComplete();
    }
  }

  private static int parseStatus(Http2Headers headers) {
    CharSequence s = headers.status();
    if (s == null || s.length() != 3) {
      return 0;
    }
    return (s.charAt(0) - '0') * 100 + (s.charAt(1) - '0') * 10 + (s.charAt(2) - '0');
  }

  // ---------------------------------------------------------------- local replies and resets

  /**
   * Envoy's local reply (sendLocalReplyViaFilterChain): a response made here, passed through the
   * whole encode path, so every filter may decorate it (CORS adds its headers to a preflight
   * answer this way). Further request data is dropped.
   */
  void sendLocalReply(int status, String body, @Nullable ResponseFlag flag, String details) {
    sendLocalReply(status, body, null, flag, details);
  }

  void sendLocalReply(
      int status, String body, @Nullable Consumer<Http2Headers> modifyHeaders, @Nullable ResponseFlag flag, String details) {
    sendLocalReply(status, body, modifyHeaders, null, flag, details);
  }

  /** {@code grpcStatus}: the grpc-status a gRPC request gets, or null to map it from {@code status}. */
  private void sendLocalReply(int status, String body, @Nullable Consumer<Http2Headers> modifyHeaders,
      @Nullable Integer grpcStatus, @Nullable ResponseFlag flag, String details) {
    if (destroyed) {
      return;
    }
    if (flag != null) {
      info.setFlag(flag);
    }
    info.responseCodeDetails = details;
    if (responseHeadersSent) {
      resetStream();
      return;
    }
    localReplySent = true;
    releaseRequestBuffers();
    Http2Headers headers = LocalReplies.headers(status, body);
    if (modifyHeaders != null) {
      modifyHeaders.accept(headers);
    }
    int from = slots.length - 1;
    encodeStoppedAt = -1;
    if (LocalReplies.isGrpc(requestHeaders)) {
      Http2Headers rq = requestHeaders;
      LocalReplies.toGrpc(headers, status, body, grpcStatus, rq != null && "HEAD".contentEquals(rq.method()));
      encodeHeaders(from, headers, true);
      return;
    }
    ByteBuf content = body.isEmpty() ? null : LocalReplies.body(connection.channel.alloc(), body);
    encodeHeaders(from, headers, content == null);
    if (content != null) {
      encodeData(from, content, true);
    }
  }

  /** Aborts the stream toward the client and tears down the filters (and the upstream request). */
  public void resetStream() {
    if (destroyed) {
      return;
    }
    stats.downstreamRqTxReset.inc();
    if (info.responseCodeDetails == null) {
      info.responseCodeDetails = "reset";
    }
    info.setFlag(ResponseFlag.LOCAL_RESET);
    encoder.resetStream();
    destroy();
  }

  /** The client reset the stream or the connection went away before the response finished. */
  public void onDownstreamReset() {
    if (destroyed) {
      return;
    }
    stats.downstreamRqRxReset.inc();
    info.setFlag(ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION);
    if (info.responseCodeDetails == null) {
      info.responseCodeDetails = "downstream_remote_disconnect";
    }
    destroy();
  }

  private void filterFailed(Slot slot, RuntimeException e) {
    // A filter threw: a bug. Envoy's convention: answer 500 locally, never crash the worker.
    HttpConnectionManager.LOG.error("HTTP filter {} failed", slot.name, e);
    if (!responseHeadersSent) {
      sendLocalReply(500, "Internal Server Error", null, "filter_error");
    } else {
      resetStream();
    }
  }

  private void onResponseComplete() {
    if (responseComplete) {
      return;
    }
    responseComplete = true;
    info.lastDownstreamTxNanos = System.nanoTime();
    destroy();
  }

  private void releaseRequestBuffers() {
    if (bufferedRequestData != null) {
      bufferedRequestData.release();
      bufferedRequestData = null;
    }
    bufferedRequestTrailers = null;
  }

  private void destroy() {
    if (destroyed) {
      return;
    }
    destroyed = true;
    info.endNanos = System.nanoTime();
    timeouts.cancel(idleTimer);
    cancel(requestTimer);
    cancel(maxDurationTimer);
    releaseRequestBuffers();
    if (bufferedResponseData != null) {
      bufferedResponseData.release();
      bufferedResponseData = null;
    }
    for (Slot s : slots) {
      try {
        s.filter.onDestroy();
      } catch (RuntimeException e) {
        HttpConnectionManager.LOG.error("HTTP filter {} failed in onDestroy", s.name, e);
      }
    }
    stats.downstreamRqActive.dec();
    if (responseComplete) {
      stats.downstreamRqCompleted.inc();
      if (info.responseCode > 0) {
        stats.responseClass(info.responseCode).inc();
      }
    }
    stats.downstreamRqTime.record(TimeUnit.NANOSECONDS.toMillis(info.endNanos - info.startNanos));
    try {
      config.accessLogger().log(info);
    } catch (RuntimeException e) {
      HttpConnectionManager.LOG.error("access log failed", e);
    }
    onComplete.run();
  }

  private static void cancel(@Nullable ScheduledFuture<?> f) {
    if (f != null) {
      f.cancel(false);
    }
  }

  public boolean destroyed() {
    return destroyed;
  }

  public boolean responseComplete() {
    return responseComplete;
  }

  // ---------------------------------------------------------------- watermarks

  public void addWatermarkListener(StreamWatermarkListener l) {
    if (watermarkListeners == null) {
      watermarkListeners = new ArrayList<>(2);
    }
    watermarkListeners.add(l);
  }

  public void removeWatermarkListener(StreamWatermarkListener l) {
    if (watermarkListeners != null) {
      watermarkListeners.remove(l);
    }
  }

  /** The codec reports the downstream's writability for this stream. */
  public void onDownstreamWritabilityChanged(boolean writable) {
    List<StreamWatermarkListener> ls = watermarkListeners;
    if (ls != null) {
      for (int i = 0; i < ls.size(); i++) {
        ls.get(i).onDownstreamWritabilityChanged(writable);
      }
    }
  }

  // ---------------------------------------------------------------- routing

  public @Nullable RouteEntry routeEntry() {
    if (!routeResolved) {
      routeResolved = true;
      Http2Headers h = requestHeaders;
      RouteTable table = scopes == null || h == null ? routeTable : scopes.select(h);
      route = table == null || h == null ? null : table.route(h, ThreadLocalRandom.current().nextLong());
      if (route != null) {
        info.routeName = route.name();
        refreshDurationTimeout(route);
        refreshIdleTimeout(route);
      }
    }
    return route;
  }

  /**
   * Envoy's requestRouteConfigUpdate (the {@code on_demand} filter, VHDS): when the table has
   * {@code vhds} and no virtual host matches the request's authority, asks the control plane for
   * one; {@code done} then runs on this stream's event loop with the newest table in place and the
   * route cache cleared (true: the virtual host arrived). False when nothing was asked.
   */
  private boolean requestRouteConfigUpdate(Consumer<Boolean> done) {
    Http2Headers h = requestHeaders;
    RouteTable table = routeTable;
    CharSequence host = h == null ? null : h.authority();
    if (scopes != null || table == null || !table.vhds() || host == null || table.findVirtualHost(h) != null) {
      return false;
    }
    RouteConfigProvider routes = config.routes();
    EventExecutor loop = connection.channel.eventLoop();
    return routes.requestVirtualHost(host.toString(), found -> loop.execute(() -> {
      if (destroyed) {
        return;
      }
      routeTable = routes.current();
      routeResolved = false;
      route = null;
      done.accept(found);
    }));
  }

  // ---------------------------------------------------------------- per-filter callbacks

  /** Each filter's view of the stream: knows its own position for continue/local reply. */
  public final class Slot implements HttpFilterCallbacks {
    final int index;
    final String name;
    final HttpFilter filter;

    Slot(int index, String name, HttpFilter filter) {
      this.index = index;
      this.name = name;
      this.filter = filter;
    }

    public ActiveStream stream() {
      return ActiveStream.this;
    }

    /** The filter's name in {@code http_filters} (the key of its {@code typed_per_filter_config}). */
    public String filterName() {
      return name;
    }

    @Override
    public StreamInfo streamInfo() {
      return info;
    }

    @Override
    public DownstreamConnection connection() {
      return connection;
    }

    @Override
    public EventExecutor eventLoop() {
      return connection.channel.eventLoop();
    }

    @Override
    public @Nullable Route route() {
      return routeEntry();
    }

    @Override
    public void clearRouteCache() {
      routeResolved = false;
      route = null;
    }

    @Override
    public void continueDecoding() {
      ActiveStream.this.continueDecoding(index);
    }

    /** See {@link ActiveStream#requestRouteConfigUpdate}: VHDS on demand, for the {@code on_demand} filter. */
    @Override
    public boolean requestRouteConfigUpdate(Consumer<Boolean> done) {
      return ActiveStream.this.requestRouteConfigUpdate(done);
    }

    @Override
    public void continueEncoding() {
      ActiveStream.this.continueEncoding(index);
    }

    @Override
    public void sendLocalReply(int status, String body, @Nullable ResponseFlag flag, String details) {
      ActiveStream.this.sendLocalReply(status, body, flag, details);
    }

    @Override
    public void sendLocalReply(int status, String body, int grpcStatus, @Nullable ResponseFlag flag, String details) {
      ActiveStream.this.sendLocalReply(status, body, null, grpcStatus, flag, details);
    }

    /** A local reply whose headers the caller completes (Envoy's modify_headers: Location, mutations). */
    public void sendLocalReply(
        int status, String body, Consumer<Http2Headers> modifyHeaders, @Nullable ResponseFlag flag, String details) {
      ActiveStream.this.sendLocalReply(status, body, modifyHeaders, flag, details);
    }

    @Override
    public void resetStream() {
      ActiveStream.this.resetStream();
    }

    /**
     * Request data this filter adds after its own position (Envoy's addDecodedData while the
     * request streams), e.g. the compressor's output in place of the chunk it consumed.
     */
    public void injectDecodedData(ByteBuf data, boolean endStream) {
      runDecodeData(index + 1, data, endStream);
    }

    /** Response events from this filter (the router) toward the client. */
    public void encodeHeaders(Http2Headers headers, boolean endStream) {
      ActiveStream.this.encodeHeaders(index - 1, headers, endStream);
    }

    public void encodeData(ByteBuf data, boolean endStream) {
      ActiveStream.this.encodeData(index - 1, data, endStream);
    }

    public void encodeTrailers(Http2Headers trailers) {
      ActiveStream.this.encodeTrailers(index - 1, trailers);
    }
  }
}
