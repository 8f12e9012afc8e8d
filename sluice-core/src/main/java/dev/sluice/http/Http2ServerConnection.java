package dev.sluice.http;

import dev.sluice.api.network.DownstreamConnection;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.netty.buffer.ByteBuf;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/2 downstream codec bridge (h2c prior knowledge, or h2 over TLS): Netty's HTTP/2 frame
 * codec with this handler as its frame listener; one {@link ActiveStream} per HTTP/2 stream. Flow
 * control is the backpressure: a stream's received bytes are returned to the peer's window only
 * once the upstream can take more.
 */
final class Http2ServerConnection extends Http2ConnectionHandler implements Http2FrameListener {
  private final HttpConnectionManagerConfig config;
  private final HttpConnectionManagerStats stats;
  private final DownstreamConnection connection;
  private final Http2Connection.PropertyKey streamKey;
  private final long createdNanos = System.nanoTime();
  private final boolean secure;
  private final Http2CodecStats http2Stats;
  /** Envoy's stream_error_on_invalid_http_messaging: a malformed request resets only its stream. */
  private final boolean streamErrorOnInvalidMessaging;
  private @Nullable ChannelHandlerContext ctx;
  private int activeStreams;
  private boolean draining;
  private dev.sluice.listener.@Nullable DrainDecision drainDecision;
  /** Connection idle timeout: a deadline moved as streams come and go, not a task per idle period. */
  private @Nullable DeadlineTimer idleTimer;
  private @Nullable StreamTimeouts streamTimeouts;
  private @Nullable ScheduledFuture<?> maxDurationTimer;
  private final FlushCoalescer flusher = new FlushCoalescer(this::flushNow);

  private Http2ServerConnection(
      Http2ConnectionDecoder decoder,
      Http2ConnectionEncoder encoder,
      Http2Settings settings,
      HttpConnectionManagerConfig config,
      DownstreamConnection connection) {
    super(decoder, encoder, settings);
    this.config = config;
    this.stats = config.stats();
    this.connection = connection;
    this.streamKey = connection().newKey();
    this.secure = connection.channel.pipeline().get(SslHandler.class) != null;
    this.http2Stats = config.http2Stats();
    Http2ProtocolOptions o = config.http2Options();
    this.streamErrorOnInvalidMessaging = o.hasOverrideStreamErrorOnInvalidHttpMessage()
        ? o.getOverrideStreamErrorOnInvalidHttpMessage().getValue() : o.getStreamErrorOnInvalidHttpMessaging();
    connection().addListener(new Http2ConnectionAdapter() {
      @Override
      public void onStreamClosed(Http2Stream s) {
        H2Stream st = s.getProperty(streamKey);
        if (st != null && !st.stream.destroyed()) {
          st.stream.onDownstreamReset();
        }
      }
    });
  }

  static void install(ChannelPipeline p, HttpConnectionManagerConfig config, DownstreamConnection connection) {
    p.addLast("sluice-h2-bytes", new WireByteCounter(config.stats().downstreamCxRxBytesTotal, config.stats().downstreamCxTxBytesTotal));
    p.addLast("sluice-h2", new Builder(config, connection).build());
  }

  static Http2Settings settings(Http2ProtocolOptions o, int maxHeaderListBytes) {
    Http2Settings s = new Http2Settings();
    // Envoy's defaults: 2^31-1 concurrent streams, 256 MiB stream window.
    s.maxConcurrentStreams(o.hasMaxConcurrentStreams() ? o.getMaxConcurrentStreams().getValue() : 2147483647L);
    s.initialWindowSize(o.hasInitialStreamWindowSize() ? o.getInitialStreamWindowSize().getValue() : 268435456);
    s.maxHeaderListSize(maxHeaderListBytes);
    if (o.hasHpackTableSize()) {
      s.headerTableSize(o.getHpackTableSize().getValue());
    }
    return s;
  }

  private static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Http2ServerConnection, Builder> {
    private final HttpConnectionManagerConfig config;
    private final DownstreamConnection connection;

    Builder(HttpConnectionManagerConfig config, DownstreamConnection connection) {
      this.config = config;
      this.connection = connection;
      server(true);
      initialSettings(settings(config.http2Options(), config.maxRequestHeadersBytes()));
      gracefulShutdownTimeoutMillis(TimeUnit.NANOSECONDS.toMillis(config.drainTimeoutNanos()));
      validateHeaders(true);
    }

    @Override
    public Http2ServerConnection build() {
      return super.build();
    }

    @Override
    protected Http2ServerConnection build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
      Http2ServerConnection h = new Http2ServerConnection(decoder, encoder, settings, config, connection);
      frameListener(h);
      return h;
    }
  }

  // ---------------------------------------------------------------- connection lifecycle

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    this.ctx = ctx;
    super.handlerAdded(ctx);
    stats.downstreamCxTotal.inc();
    stats.downstreamCxActive.inc();
    stats.downstreamCxHttp2Total.inc();
    stats.downstreamCxHttp2Active.inc();
    if (secure) {
      stats.downstreamCxSslTotal.inc();
    }
    Http2ProtocolOptions o = config.http2Options();
    int connWindow = o.hasInitialConnectionWindowSize() ? o.getInitialConnectionWindowSize().getValue() : 268435456;
    Http2Stream connStream = connection().connectionStream();
    int delta = connWindow - connection().local().flowController().initialWindowSize(connStream);
    if (delta > 0) {
      connection().local().flowController().incrementWindowSize(connStream, delta);
    }
    armIdleTimer();
    if (config.maxConnectionDurationNanos() > 0) {
      maxDurationTimer = ctx.executor().schedule(this::drain, config.maxConnectionDurationNanos(), TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    stats.downstreamCxActive.dec();
    stats.downstreamCxHttp2Active.dec();
    stats.downstreamCxDestroy.inc();
    if (activeStreams > 0) {
      stats.downstreamCxDestroyActiveRq.inc();
    }
    stats.downstreamCxLengthMs.record(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - createdNanos));
    if (idleTimer != null) {
      idleTimer.cancel();
    }
    if (streamTimeouts != null) {
      streamTimeouts.close();
    }
    if (maxDurationTimer != null) {
      maxDurationTimer.cancel(false);
    }
    super.channelInactive(ctx);
  }

  private void armIdleTimer() {
    if (config.idleTimeoutNanos() > 0 && ctx != null) {
      if (idleTimer == null) {
        idleTimer = new DeadlineTimer(ctx.executor(), this::onIdleTimeout);
      }
      idleTimer.arm(config.idleTimeoutNanos());
    }
  }

  private void onIdleTimeout() {
    if (activeStreams == 0 && ctx != null) {
      stats.downstreamCxIdleTimeout.inc();
      goAwayAndClose();
    }
  }

  /** Graceful drain: GOAWAY now; the connection closes once the open streams finish. */
  void drain() {
    if (draining || ctx == null) {
      return;
    }
    draining = true;
    stats.downstreamCxDrainClose.inc();
    goAwayAndClose();
  }

  /**
   * Envoy asks its drain decision on each response (true as well while the server's health check
   * is failed); a yes starts the GOAWAY sequence.
   */
  private void drainOnResponse() {
    dev.sluice.listener.DrainDecision d = drainDecision;
    if (!draining && ((d != null && d.drainClose()) || config.healthCheckDrainClose().getAsBoolean())) {
      drain();
    }
  }

  private void goAwayAndClose() {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    // Http2ConnectionHandler.close sends GOAWAY and waits for active streams (graceful timeout).
    // It must be this handler's close: c.close() starts at the previous handler, skipping it, and
    // cut the connection with no GOAWAY and its streams unfinished.
    try {
      close(c, c.newPromise());
    } catch (Exception e) {
      c.close();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof dev.sluice.listener.ListenerDrainEvent e) {
      // Immediate: GOAWAY now. Gradual: asked again on each response (drainOnResponse).
      drainDecision = e.decision();
      if (e.decision().immediate()) {
        drain();
      }
    }
    super.userEventTriggered(ctx, evt);
  }

  // ---------------------------------------------------------------- frames in

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding, boolean endOfStream) throws Http2Exception {
    Http2Stream s = connection().stream(streamId);
    H2Stream existing = s == null ? null : s.getProperty(streamKey);
    if (existing != null) {
      // Trailers (RFC 9113 8.1): a second HEADERS frame ends the request.
      existing.stream.decodeTrailers(headers);
      return;
    }
    if (s == null) {
      return;
    }
    if (headers.method() == null || headers.scheme() == null && !Headers.CONNECT.contentEquals(headers.method())
        || headers.path() == null && !Headers.CONNECT.contentEquals(headers.method())) {
      // RFC 9113 8.3.1: a request without its required pseudo-headers is malformed (nghttp2's check).
      throw Http2Exception.streamError(streamId, Http2Error.PROTOCOL_ERROR, "missing required pseudo-header");
    }
    if (idleTimer != null) {
      idleTimer.disarm();
    }
    activeStreams++;
    H2Stream st = new H2Stream(s);
    StreamTimeouts timeouts = streamTimeouts;
    if (timeouts == null) {
      timeouts = streamTimeouts = new StreamTimeouts(ctx.executor());
    }
    ActiveStream as = new ActiveStream(config, connection, st, timeouts, () -> onStreamDone(st));
    st.stream = as;
    s.setProperty(streamKey, st);
    if (headers.authority() == null && headers.contains(Headers.HOST)) {
      headers.authority(headers.get(Headers.HOST));
      headers.remove(Headers.HOST);
    }
    RequestHeaderProcessor.Rejection r = RequestHeaderProcessor.process(config, connection, headers, secure, as.streamInfo());
    as.streamInfo().requestHeaders = headers;
    if (r != null) {
      as.sendLocalReply(r.status(), r.body(), r.headerModifier(), null, r.details());
      return;
    }
    as.decodeHeaders(headers, endOfStream);
  }

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency, short weight, boolean exclusive, int padding, boolean endOfStream) throws Http2Exception {
    onHeadersRead(ctx, streamId, headers, padding, endOfStream);
  }

  @Override
  public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
    Http2Stream s = connection().stream(streamId);
    H2Stream st = s == null ? null : s.getProperty(streamKey);
    int n = data.readableBytes();
    if (st == null || st.stream.destroyed()) {
      return n + padding;
    }
    st.stream.decodeData(data.retain(), endOfStream);
    if (st.readEnabled || endOfStream) {
      return n + padding;
    }
    st.unconsumed += n;
    return padding;
  }

  @Override
  public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
    http2Stats.rxReset.inc();
    Http2Stream s = connection().stream(streamId);
    H2Stream st = s == null ? null : s.getProperty(streamKey);
    if (st != null && !st.stream.destroyed()) {
      st.stream.onDownstreamReset();
    }
  }

  @Override
  public void onPriorityRead(ChannelHandlerContext ctx, int streamId, int streamDependency, short weight, boolean exclusive) {}

  @Override
  public void onSettingsAckRead(ChannelHandlerContext ctx) {}

  @Override
  public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) {}

  @Override
  public void onPingRead(ChannelHandlerContext ctx, long data) {}

  @Override
  public void onPingAckRead(ChannelHandlerContext ctx, long data) {}

  @Override
  public void onPushPromiseRead(ChannelHandlerContext ctx, int streamId, int promisedStreamId, Http2Headers headers, int padding) {}

  @Override
  public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {}

  @Override
  public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {}

  @Override
  public void onUnknownFrame(ChannelHandlerContext ctx, byte frameType, int streamId, io.netty.handler.codec.http2.Http2Flags flags, ByteBuf payload) {}

  /**
   * Envoy's answers to stream-level codec errors: headers over max_request_headers_kb reset the
   * stream ({@code http2.header_overflow}; nghttp2's INTERNAL_ERROR, no 431 as Netty would send);
   * a malformed request ({@code http2.rx_messaging_error}) closes the whole connection unless
   * stream_error_on_invalid_http_messaging, when only its stream is reset.
   */
  @Override
  protected void onStreamError(ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception.StreamException e) {
    if (!outbound && e instanceof Http2Exception.HeaderListSizeException h && h.duringDecode()) {
      http2Stats.headerOverflow.inc();
      http2Stats.txReset.inc();
      super.onStreamError(ctx, false, cause,
          (Http2Exception.StreamException) Http2Exception.streamError(e.streamId(), Http2Error.INTERNAL_ERROR, "header list too large"));
      return;
    }
    if (!outbound && e.error() == Http2Error.PROTOCOL_ERROR) {
      http2Stats.rxMessagingError.inc();
      if (!streamErrorOnInvalidMessaging) {
        onError(ctx, false, Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "%s", e.getMessage()));
        return;
      }
      http2Stats.txReset.inc();
    }
    super.onStreamError(ctx, outbound, cause, e);
  }

  @Override
  protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause, Http2Exception http2Ex) {
    stats.downstreamCxProtocolError.inc();
    HttpConnectionManager.LOG.debug("HTTP/2 connection error", cause);
    super.onConnectionError(ctx, outbound, cause, http2Ex);
  }

  private void onStreamDone(H2Stream st) {
    activeStreams--;
    if (activeStreams == 0 && !draining) {
      armIdleTimer();
    }
  }

  private void scheduleFlush() {
    if (ctx != null) {
      flusher.schedule(ctx.executor());
    }
  }

  private void flushNow() {
    if (ctx != null) {
      // This handler's own flush: it writes the DATA frames the flow controller queued, which a
      // ctx.flush() (starting at the next handler) leaves queued until the next read completes.
      flush(ctx);
    }
  }

  // ---------------------------------------------------------------- one stream's encoder

  private final class H2Stream implements DownstreamStreamEncoder {
    final Http2Stream h2;
    ActiveStream stream;
    boolean readEnabled = true;
    int unconsumed;
    final StreamWriteBudget budget;

    H2Stream(Http2Stream h2) {
      this.h2 = h2;
      this.budget = new StreamWriteBudget(connection.bufferLimitBytes, () -> {
        if (stream != null) {
          stream.onDownstreamWritabilityChanged(true);
        }
      });
    }

    @Override
    public void encodeHeaders(Http2Headers headers, boolean endStream) {
      ChannelHandlerContext c = ctx;
      if (c == null) {
        return;
      }
      encoder().writeHeaders(c, h2.id(), headers, 0, endStream, c.newPromise());
      scheduleFlush();
      drainOnResponse();
    }

    @Override
    public void encodeData(ByteBuf data, boolean endStream) {
      ChannelHandlerContext c = ctx;
      if (c == null) {
        data.release();
        return;
      }
      encoder().writeData(c, h2.id(), data, 0, endStream, budget.track(data.readableBytes(), c.newPromise()));
      scheduleFlush();
    }

    @Override
    public void encodeTrailers(Http2Headers trailers) {
      ChannelHandlerContext c = ctx;
      if (c == null) {
        return;
      }
      encoder().writeHeaders(c, h2.id(), trailers, 0, true, c.newPromise());
      scheduleFlush();
    }

    @Override
    public void resetStream() {
      ChannelHandlerContext c = ctx;
      if (c == null) {
        return;
      }
      http2Stats.txReset.inc();
      Http2ServerConnection.this.resetStream(c, h2.id(), Http2Error.INTERNAL_ERROR.code(), c.newPromise());
      scheduleFlush();
    }

    @Override
    public boolean isWritable() {
      return budget.writable();
    }

    @Override
    public void setRequestReadEnabled(boolean enabled) {
      readEnabled = enabled;
      if (enabled && unconsumed > 0) {
        int n = unconsumed;
        unconsumed = 0;
        try {
          if (h2.state() != Http2Stream.State.CLOSED) {
            connection().local().flowController().consumeBytes(h2, n);
            scheduleFlush();
          }
        } catch (Http2Exception e) {
          HttpConnectionManager.LOG.debug("consumeBytes failed", e);
        }
      }
    }

    @Override
    public String protocol() {
      return "HTTP/2";
    }

    @Override
    public boolean secure() {
      return secure;
    }
  }

}
