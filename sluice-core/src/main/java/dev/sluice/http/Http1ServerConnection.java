package dev.sluice.http;

import dev.sluice.api.network.DownstreamConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/1.1 downstream codec bridge: Netty's strict HTTP/1 parser in front, one request at a
 * time (pipelined requests wait their turn), each request turned into HTTP/2-style headers for the
 * stream model, responses turned back into HTTP/1.1. Upgrades (WebSocket) switch the connection to
 * raw bytes after a 101.
 */
final class Http1ServerConnection extends ChannelInboundHandlerAdapter implements DownstreamStreamEncoder {
  private final HttpConnectionManagerConfig config;
  private final HttpConnectionManagerStats stats;
  private final DownstreamConnection connection;
  private final boolean secure;
  private final boolean allowCustomMethods;
  private final long createdNanos = System.nanoTime();
  private @Nullable ChannelHandlerContext ctx;
  private @Nullable ActiveStream stream;
  /** Messages of the next pipelined request, parsed while the current one was in flight. */
  private final ArrayDeque<Object> pipelined = new ArrayDeque<>(2);
  private boolean requestInProgress;
  private boolean keepAlive = true;
  private boolean isHead;
  private boolean http10;
  private boolean responseChunked;
  private boolean responseHasBody;
  private boolean upgradeRequested;
  private boolean upgradeRejected;
  private boolean upgraded;
  private boolean closeAfterResponse;
  private boolean draining;
  private dev.sluice.listener.@Nullable DrainDecision drainDecision;
  /** Connection idle timeout: disarmed while a request is in progress, re-armed after it. */
  private @Nullable DeadlineTimer idleTimer;
  private @Nullable StreamTimeouts streamTimeouts;
  private @Nullable ScheduledFuture<?> headersTimer;
  private @Nullable ScheduledFuture<?> maxDurationTimer;
  private final FlushCoalescer flusher = new FlushCoalescer(this::flushNow);
  /** Initial capacity for the next response head's buffer. */
  private int headEstimate = 256;

  private static final AsciiString HTTP_1_1 = AsciiString.cached("HTTP/1.1");
  private static final AsciiString HTTP_1_0 = AsciiString.cached("HTTP/1.0");
  private static final AsciiString ZERO = AsciiString.cached("0");
  private static final AsciiString KEEP_ALIVE_VALUE = AsciiString.cached("keep-alive");
  private static final AsciiString TEXT_PLAIN = AsciiString.cached("text/plain");
  private static final AsciiString SEC_WEBSOCKET_VERSION = AsciiString.cached("sec-websocket-version");

  private Http1ServerConnection(HttpConnectionManagerConfig config, DownstreamConnection connection) {
    this.config = config;
    this.stats = config.stats();
    this.connection = connection;
    this.secure = connection.channel.pipeline().get(SslHandler.class) != null;
    this.allowCustomMethods = config.proto().getHttpProtocolOptions().getAllowCustomMethods();
  }

  static void install(ChannelPipeline p, HttpConnectionManagerConfig config, DownstreamConnection connection) {
    Http1ServerConnection h1 = new Http1ServerConnection(config, connection);
    p.addLast("sluice-h1-bytes", new WireByteCounter(config.stats().downstreamCxRxBytesTotal, config.stats().downstreamCxTxBytesTotal));
    p.addLast("sluice-h1-codec", StrictHttp1Decoder.serverDecoder(config, h1::onRequestBytes));
    p.addLast("sluice-h1", h1);
  }

  // ---------------------------------------------------------------- connection lifecycle

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    stats.downstreamCxTotal.inc();
    stats.downstreamCxActive.inc();
    stats.downstreamCxHttp1Total.inc();
    stats.downstreamCxHttp1Active.inc();
    if (secure) {
      stats.downstreamCxSslTotal.inc();
    }
    armIdleTimer();
    if (config.maxConnectionDurationNanos() > 0) {
      maxDurationTimer = ctx.executor().schedule(this::onMaxConnectionDuration, config.maxConnectionDurationNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Bytes arrived for the parser. Envoy's request_headers_timeout starts at the first byte of a
   * request's headers (not at accept) and stops when the headers are complete.
   */
  private void onRequestBytes() {
    if (headersTimer == null && !requestInProgress && stream == null && !upgraded && ctx != null
        && config.requestHeadersTimeoutNanos() > 0) {
      headersTimer = ctx.executor().schedule(this::onRequestHeadersTimeout, config.requestHeadersTimeoutNanos(), TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stats.downstreamCxActive.dec();
    stats.downstreamCxHttp1Active.dec();
    stats.downstreamCxDestroy.inc();
    stats.downstreamCxLengthMs.record(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - createdNanos));
    if (upgraded) {
      stats.downstreamCxUpgradesActive.dec();
    }
    cancelTimers();
    ActiveStream s = stream;
    if (s != null && !s.destroyed()) {
      stats.downstreamCxDestroyActiveRq.inc();
      stats.downstreamCxDestroyRemoteActiveRq.inc();
      if (upgraded) {
        // A WebSocket is over when either side closes: end the request stream cleanly.
        s.decodeData(Unpooled.EMPTY_BUFFER, true);
      }
      if (!s.destroyed()) {
        s.onDownstreamReset();
      }
    }
    for (Object o : pipelined) {
      ReferenceCountUtil.release(o);
    }
    pipelined.clear();
    ctx.fireChannelInactive();
  }

  private void cancelTimers() {
    if (idleTimer != null) {
      idleTimer.cancel();
    }
    if (streamTimeouts != null) {
      streamTimeouts.close();
    }
    if (headersTimer != null) {
      headersTimer.cancel(false);
      headersTimer = null;
    }
    if (maxDurationTimer != null) {
      maxDurationTimer.cancel(false);
      maxDurationTimer = null;
    }
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
    if (stream == null && ctx != null) {
      stats.downstreamCxIdleTimeout.inc();
      ctx.close();
    }
  }

  private void onMaxConnectionDuration() {
    maxDurationTimer = null;
    stats.downstreamCxMaxDurationReached.inc();
    // Envoy drains: the in-flight response carries connection: close; an idle connection closes now.
    if (stream == null && ctx != null) {
      ctx.close();
    } else {
      draining = true;
    }
  }

  private void onRequestHeadersTimeout() {
    headersTimer = null;
    if (ctx == null || stream != null) {
      return;
    }
    // Envoy: 408 with an empty body (details request_header_timeout), then the connection closes
    // since the request never completed.
    stats.downstreamRqHeaderTimeout.inc();
    writeBareResponse(HttpResponseStatus.REQUEST_TIMEOUT, "");
  }

  /** Drain: the next response says {@code connection: close}; an idle connection closes now. */
  void drain() {
    if (!draining) {
      // Counted once per connection, idle or busy (the busy one's response then says close).
      draining = true;
      stats.downstreamCxDrainClose.inc();
    }
    if (stream == null && ctx != null) {
      ctx.close();
    }
  }

  /**
   * The listener drains: an immediate drain closes now (or after the response in flight); a
   * gradual one is asked again on each response ({@link #drainOnResponse()}).
   */
  private void onListenerDrain(dev.sluice.listener.DrainDecision decision) {
    drainDecision = decision;
    if (decision.immediate()) {
      drain();
    }
  }

  /**
   * Envoy asks its drain decision on each response (true as well while the server's health check
   * is failed); a yes makes it the connection's last.
   */
  private boolean drainOnResponse() {
    dev.sluice.listener.DrainDecision d = drainDecision;
    if (!draining && ((d != null && d.drainClose()) || config.healthCheckDrainClose().getAsBoolean())) {
      draining = true;
      stats.downstreamCxDrainClose.inc();
    }
    return draining;
  }

  // ---------------------------------------------------------------- inbound

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (upgraded) {
      ActiveStream s = stream;
      if (msg instanceof ByteBuf buf && s != null) {
        s.decodeData(buf, false);
      } else {
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    if (!pipelined.isEmpty() || (stream != null && !requestInProgress)) {
      // The next (pipelined) request while a response is in flight: hold it until our turn.
      pipelined.add(msg);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    handle(ctx, msg);
  }

  private void handle(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest req) {
      onRequest(ctx, req);
      if (msg instanceof HttpContent c) {
        onContent(c);
      }
    } else if (msg instanceof HttpContent c) {
      onContent(c);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onRequest(ChannelHandlerContext ctx, HttpRequest req) {
    if (idleTimer != null) {
      idleTimer.disarm();
    }
    if (headersTimer != null) {
      headersTimer.cancel(false);
      headersTimer = null;
    }
    requestInProgress = true;
    requestEndedWithHeaders = false;
    DecoderResult result = req.decoderResult();
    HttpHeaders h = req.headers();
    if (h.contains(HttpHeaderNames.TRANSFER_ENCODING) && unsupportedTransferEncoding(h)) {
      // RFC 9112 6.1: only a lone "chunked" is a transfer coding Envoy forwards; it answers 501 to
      // any other (gzip, identity, chunked twice...), before its Content-Length check. Netty's RFC
      // 9112 rules refuse most of these already (a failed result): the answer is still 501.
      protocolError(ctx, HttpResponseStatus.NOT_IMPLEMENTED);
      return;
    }
    if (result.isFailure()) {
      protocolError(ctx, result.cause());
      return;
    }
    if (!allowCustomMethods && !KNOWN_METHODS.contains(req.method().name())) {
      // Envoy's parser knows a fixed list of methods unless allow_custom_methods: 400 otherwise
      // (this also refuses the HTTP/2 preface, "PRI * HTTP/2.0", on an HTTP/1 codec).
      protocolError(ctx, HttpResponseStatus.BAD_REQUEST);
      return;
    }
    if (h.contains(HttpHeaderNames.TRANSFER_ENCODING) && h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      // RFC 9112 6.3: both framings at once is the classic smuggling shape; Envoy refuses it.
      protocolError(ctx, new IllegalArgumentException("content-length and transfer-encoding"));
      return;
    }
    if (h.size() > config.maxHeadersCount()) {
      // Envoy's codec counts headers as it parses them: 431 and the connection closes.
      protocolError(ctx, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE);
      return;
    }
    // Envoy treats every version but HTTP/1.1 (1.0, 0.9, 1.2...) as HTTP/1.0.
    http10 = !req.protocolVersion().equals(HttpVersion.HTTP_1_1);
    if (http10 && !config.acceptHttp10()) {
      // Envoy refuses HTTP/1.0 unless accept_http_10 is set: 426 Upgrade Required.
      protocolError(ctx, HttpResponseStatus.UPGRADE_REQUIRED);
      return;
    }
    keepAlive = io.netty.handler.codec.http.HttpUtil.isKeepAlive(req);
    isHead = req.method().equals(io.netty.handler.codec.http.HttpMethod.HEAD);
    boolean noBody = !io.netty.handler.codec.http.HttpUtil.isTransferEncodingChunked(req)
        && io.netty.handler.codec.http.HttpUtil.getContentLength(req, 0L) == 0;
    Http2Headers headers = toHttp2Headers(req);
    if (headers.authority() != null && !validAuthority(headers.authority())) {
      // Envoy's codec checks the host (RFC 3986 authority characters): 400 and close.
      protocolError(ctx, HttpResponseStatus.BAD_REQUEST);
      return;
    }
    StreamTimeouts timeouts = streamTimeouts;
    if (timeouts == null) {
      timeouts = streamTimeouts = new StreamTimeouts(ctx.executor());
    }
    ActiveStream s = new ActiveStream(config, connection, this, timeouts, this::onStreamComplete);
    stream = s;
    boolean endStream = req instanceof LastHttpContent last && last.content().readableBytes() == 0 && last.trailingHeaders().isEmpty()
        || (noBody && !upgradeRequested);
    skipNextEmptyLast = endStream && !(req instanceof LastHttpContent);
    RequestHeaderProcessor.Rejection rejection = RequestHeaderProcessor.process(config, connection, headers, secure, s.streamInfo());
    s.streamInfo().requestHeaders = headers;
    if (rejection == null && upgradeRejected) {
      rejection = new RequestHeaderProcessor.Rejection(403, "", "upgrade_failed");
    }
    if (rejection != null) {
      // A request without a body is complete already: the connection stays open after the reply.
      requestEndedWithHeaders = endStream;
      if (rejection.codecError()) {
        stats.downstreamCxProtocolError.inc();
        closeAfterResponse = true;
      }
      s.sendLocalReply(rejection.status(), rejection.body(), rejection.headerModifier(), null, rejection.details());
      return;
    }
    s.decodeHeaders(headers, endStream);
  }

  /** More than one Transfer-Encoding field, or a value other than "chunked". */
  private static boolean unsupportedTransferEncoding(HttpHeaders h) {
    java.util.List<String> all = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    return all.size() != 1 || !AsciiString.contentEqualsIgnoreCase(all.get(0).trim(), Headers.CHUNKED);
  }

  /** RFC 3986 authority characters (what Envoy's codec accepts in Host / :authority). */
  static boolean validAuthority(CharSequence authority) {
    for (int i = 0; i < authority.length(); i++) {
      char c = authority.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "-._~!$&'()*+,;=:%@[]".indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** The methods Envoy's HTTP/1 parser knows (without allow_custom_methods). */
  private static final java.util.Set<String> KNOWN_METHODS = java.util.Set.of(
      "ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LINK", "LOCK", "M-SEARCH",
      "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST",
      "PROPFIND", "PROPPATCH", "PURGE", "PUT", "REBIND", "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE",
      "TRACE", "UNBIND", "UNLINK", "UNLOCK", "UNSUBSCRIBE");

  /** Set when a request without a body was answered by a local reply before reaching the filters. */
  private boolean requestEndedWithHeaders;

  /** Set when the request ended with its headers, so the decoder's empty LastHttpContent is dropped. */
  private boolean skipNextEmptyLast;

  private void onContent(HttpContent c) {
    ActiveStream s = stream;
    if (c.decoderResult().isFailure()) {
      c.release();
      if (ctx != null) {
        protocolError(ctx, c.decoderResult().cause());
      }
      return;
    }
    if (s == null || s.destroyed()) {
      boolean last = c instanceof LastHttpContent;
      c.release();
      if (last) {
        onRequestBodyDrained();
      }
      return;
    }
    ByteBuf data = c.content();
    if (c instanceof LastHttpContent last) {
      if (upgradeRequested && data.readableBytes() == 0 && last.trailingHeaders().isEmpty()) {
        // An upgrade request has no body: what follows the 101 is the tunnel, not this message.
        c.release();
        requestInProgress = false;
        return;
      }
      if (skipNextEmptyLast && data.readableBytes() == 0 && last.trailingHeaders().isEmpty()) {
        skipNextEmptyLast = false;
        c.release();
        requestInProgress = false;
        return;
      }
      skipNextEmptyLast = false;
      requestInProgress = false;
      HttpHeaders trailers = last.trailingHeaders();
      if (trailers.isEmpty()) {
        s.decodeData(data, true);
      } else {
        if (data.readableBytes() > 0) {
          s.decodeData(data, false);
        } else {
          data.release();
        }
        s.decodeTrailers(((Http2BackedHeaders) trailers).http2());
      }
    } else {
      s.decodeData(data, false);
    }
  }

  private void onRequestBodyDrained() {
    requestInProgress = false;
    if (stream == null) {
      nextRequest();
    }
  }

  /**
   * Turns the decoded HTTP/1.1 request head into the stream model's headers in place (the decoder
   * stored the fields in them, names lower-cased): adds the pseudo-headers, takes the authority
   * from the absolute-form URI or Host, and removes the hop-by-hop fields.
   */
  private Http2Headers toHttp2Headers(HttpRequest req) {
    Http2Headers out = ((Http2BackedHeaders) req.headers()).http2();
    CharSequence host = out.get(Headers.HOST);
    CharSequence connectionHeader = out.get(Headers.CONNECTION);
    CharSequence upgrade = null;
    if (out.contains(Headers.UPGRADE)) {
      java.util.List<CharSequence> upgrades = out.getAll(Headers.UPGRADE);
      upgrade = upgrades.get(upgrades.size() - 1);
    }
    out.remove(Headers.HOST);
    out.remove(Headers.UPGRADE);
    out.remove(Headers.CONNECTION);
    out.remove(Headers.KEEP_ALIVE);
    out.remove(Headers.PROXY_CONNECTION);
    out.remove(Headers.TRANSFER_ENCODING);
    if (out.contains(Headers.TE)) {
      // Only "te: trailers" may cross (RFC 9113 8.2.2); gRPC needs it.
      int trailers = 0;
      for (CharSequence te : out.getAll(Headers.TE)) {
        if (Headers.containsToken(te, Headers.TRAILERS)) {
          trailers++;
        }
      }
      out.remove(Headers.TE);
      for (int i = 0; i < trailers; i++) {
        out.add(Headers.TE, Headers.TRAILERS);
      }
    }
    out.method(req.method().asciiName());
    out.scheme(secure ? Headers.HTTPS : Headers.HTTP);
    String uri = req.uri();
    if (uri.startsWith("http://") || uri.startsWith("https://")) {
      // Absolute form (RFC 9112 3.2.2): the authority comes from the URI.
      int start = uri.indexOf("//") + 2;
      int slash = uri.indexOf('/', start);
      String authority = slash < 0 ? uri.substring(start) : uri.substring(start, slash);
      out.authority(authority);
      uri = slash < 0 ? "/" : uri.substring(slash);
      out.path(uri);
    } else {
      out.path(uri);
      if (host != null) {
        out.authority(host);
      }
    }
    upgradeRequested = false;
    upgradeRejected = false;
    if (upgrade != null) {
      String type = upgrade.toString().toLowerCase(java.util.Locale.ROOT);
      boolean upgrading = connectionHeader != null && Headers.containsToken(connectionHeader, Headers.UPGRADE);
      if (upgrading && config.upgradeAllowed(type)) {
        upgradeRequested = true;
        out.set(Headers.UPGRADE, upgrade);
        out.set(Headers.CONNECTION, Headers.UPGRADE);
      } else if (upgrading && !type.equals("h2c")) {
        // Envoy refuses an upgrade no upgrade_configs entry allows: 403, details upgrade_failed
        // (h2c is dropped instead: the codec strips that upgrade).
        upgradeRejected = true;
        if (Headers.eqIgnoreCase(upgrade, Headers.WEBSOCKET)) {
          stats.downstreamRqWsOnNonWsRoute.inc();
        }
      }
    }
    return out;
  }

  private void protocolError(ChannelHandlerContext ctx, Throwable cause) {
    HttpResponseStatus status = cause instanceof TooLongHttpHeaderException || cause instanceof TooLongHttpLineException
        ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
        : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE
        : cause instanceof StrictHttp1Decoder.NotImplementedException ? HttpResponseStatus.NOT_IMPLEMENTED
        : HttpResponseStatus.BAD_REQUEST;
    protocolError(ctx, status);
  }

  /**
   * A codec error: Envoy answers with the status and its reason phrase as the body ("Bad Request"),
   * counts downstream_cx_protocol_error (431 is no downstream_rq_too_large: that one is Envoy's
   * 413 for an over-long buffered body) and closes the connection.
   */
  private void protocolError(ChannelHandlerContext ctx, HttpResponseStatus status) {
    stats.downstreamCxProtocolError.inc();
    ActiveStream s = stream;
    if (s != null && !s.destroyed()) {
      if (!s.responseStarted()) {
        closeAfterResponse = true;
        s.streamInfo().setFlag(dev.sluice.api.stream.ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR);
        s.sendLocalReply(status.code(), status.reasonPhrase(), null, "http1.codec_error");
      } else {
        s.resetStream();
      }
      return;
    }
    writeBareResponse(status, status.reasonPhrase());
  }

  /**
   * A response to a request that never became a stream (protocol errors): written directly, then
   * the connection closes, as Envoy does after a codec error.
   */
  private void writeBareResponse(HttpResponseStatus status, String body) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteBuf buf = c.alloc().buffer(128 + bytes.length);
    Http1Wire.writeAscii(buf, HTTP_1_1);
    buf.writeByte(' ');
    Http1Wire.writeAscii(buf, status.codeAsText());
    buf.writeByte(' ');
    Http1Wire.writeAscii(buf, status.reasonPhrase());
    Http1Wire.writeCrlf(buf);
    Http1Wire.writeHeader(buf, Headers.CONTENT_LENGTH, Integer.toString(bytes.length));
    if (bytes.length > 0) {
      Http1Wire.writeHeader(buf, Headers.CONTENT_TYPE, TEXT_PLAIN);
    }
    Http1Wire.writeHeader(buf, Headers.SERVER, config.serverName());
    Http1Wire.writeHeader(buf, Headers.CONNECTION, Headers.CLOSE);
    Http1Wire.writeCrlf(buf);
    buf.writeBytes(bytes);
    c.channel().config().setAutoRead(false);
    c.writeAndFlush(buf).addListener(ChannelFutureListener.CLOSE);
  }

  // ---------------------------------------------------------------- stream completion

  private void onStreamComplete() {
    ActiveStream s = stream;
    stream = null;
    if (ctx == null || !ctx.channel().isActive()) {
      return;
    }
    if (s != null && !s.responseComplete()) {
      // Reset before the response ended: HTTP/1 has no stream reset, so the connection goes.
      ctx.close();
      return;
    }
    if (s != null && !s.requestComplete() && !requestEndedWithHeaders) {
      // The response finished before the request body did: Envoy closes (no request smuggling
      // through a half-read body).
      stats.downstreamRqResponseBeforeRqComplete.inc();
      closeAfterResponse = true;
    }
    if (closeAfterResponse || !keepAlive || draining) {
      flushNow();
      ctx.close();
      return;
    }
    ctx.channel().config().setAutoRead(true);
    nextRequest();
  }

  private void nextRequest() {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    // Replay the queued messages of the next request, body included: they were read already, so
    // no further read would deliver them.
    while ((stream == null || requestInProgress) && !pipelined.isEmpty()) {
      handle(c, pipelined.poll());
    }
    if (stream == null && pipelined.isEmpty()) {
      c.channel().config().setAutoRead(true);
      if (!requestInProgress) {
        armIdleTimer();
      }
    }
  }

  // ---------------------------------------------------------------- outbound (DownstreamStreamEncoder)

  @Override
  public void encodeHeaders(Http2Headers headers, boolean endStream) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    HttpResponseStatus status = HttpResponseStatus.parseLine(headers.status());
    int code = status.code();
    boolean switching = code == 101 && upgradeRequested;
    responseHasBody = !isHead && code != 204 && code != 304 && code >= 200;
    responseChunked = false;
    // Fields this codec sets, each replacing any of the same name, written after the others.
    AsciiString framing = null;
    CharSequence framingValue = null;
    AsciiString connectionValue = null;
    if (switching) {
      connectionValue = Headers.UPGRADE;
    } else {
      if (responseHasBody && !headers.contains(Headers.CONTENT_LENGTH)) {
        if (endStream) {
          framing = Headers.CONTENT_LENGTH;
          framingValue = ZERO;
        } else if (http10) {
          // HTTP/1.0 has no chunking: the body ends when the connection closes.
          closeAfterResponse = true;
        } else {
          framing = Headers.TRANSFER_ENCODING;
          framingValue = Headers.CHUNKED;
          responseChunked = true;
        }
      }
      ActiveStream s = stream;
      boolean willClose = closeAfterResponse || !keepAlive || drainOnResponse() || (s != null && !s.requestComplete() && endStream);
      if (willClose) {
        connectionValue = Headers.CLOSE;
      } else if (http10) {
        connectionValue = KEEP_ALIVE_VALUE;
      }
    }
    // RFC 9110 6.4.1: no content in a 1xx (but a WebSocket draft-00 101), 204, 205 or 304; as
    // Netty's response encoder, strip the length fields of 1xx and 204 and state 0 for a 205.
    boolean alwaysEmpty = code < 200 ? code != 101 || headers.contains(SEC_WEBSOCKET_VERSION)
        : code == 204 || code == 205 || code == 304;
    boolean stripLength = alwaysEmpty && (code < 200 || code == 204 || code == 205);
    if (alwaysEmpty) {
      responseHasBody = false;
      responseChunked = false;
      if (stripLength) {
        framing = null;
      }
    }
    ByteBuf buf = c.alloc().buffer(headEstimate);
    Http1Wire.writeAscii(buf, http10 ? HTTP_1_0 : HTTP_1_1);
    buf.writeByte(' ');
    Http1Wire.writeAscii(buf, status.codeAsText());
    buf.writeByte(' ');
    Http1Wire.writeAscii(buf, status.reasonPhrase());
    Http1Wire.writeCrlf(buf);
    for (Map.Entry<CharSequence, CharSequence> e : headers) {
      CharSequence name = e.getKey();
      if (name.length() > 0 && name.charAt(0) == ':'
          || connectionValue != null && Headers.CONNECTION.contentEqualsIgnoreCase(name)
          || (framing == Headers.TRANSFER_ENCODING || stripLength) && Headers.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)
          || stripLength && Headers.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
        continue;
      }
      Http1Wire.writeHeader(buf, name, e.getValue());
    }
    if (framing != null) {
      Http1Wire.writeHeader(buf, framing, framingValue);
    }
    if (connectionValue != null) {
      Http1Wire.writeHeader(buf, Headers.CONNECTION, connectionValue);
    }
    if (alwaysEmpty && code == 205) {
      Http1Wire.writeHeader(buf, Headers.CONTENT_LENGTH, ZERO);
    }
    Http1Wire.writeCrlf(buf);
    // Netty's estimate for the next head: a moving average of the sizes written.
    headEstimate = Math.max(64, (headEstimate * 4 + buf.readableBytes() + 32) / 5);
    c.write(buf, c.voidPromise());
    if (switching) {
      c.flush();
      switchToRaw(c);
      return;
    }
    scheduleFlush();
  }

  private void switchToRaw(ChannelHandlerContext c) {
    upgraded = true;
    stats.downstreamCxUpgradesTotal.inc();
    stats.downstreamCxUpgradesActive.inc();
    ChannelPipeline p = c.pipeline();
    if (p.get("sluice-h1-codec") != null) {
      p.remove("sluice-h1-codec");
    }
  }

  @Override
  public void encodeData(ByteBuf data, boolean endStream) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      data.release();
      return;
    }
    if (upgraded) {
      if (data.isReadable()) {
        c.write(data, c.voidPromise());
      } else {
        data.release();
      }
      if (endStream) {
        c.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      scheduleFlush();
      return;
    }
    if (!responseHasBody) {
      data.release();
      if (endStream) {
        scheduleFlush();
      }
      return;
    }
    Http1Wire.writeBody(c, data, responseChunked, endStream);
    scheduleFlush();
  }

  @Override
  public void encodeTrailers(Http2Headers trailers) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    if (responseChunked) {
      Http1Wire.writeLastChunk(c, trailers);
    }
    scheduleFlush();
  }

  @Override
  public void resetStream() {
    ChannelHandlerContext c = ctx;
    if (c != null) {
      c.close();
    }
  }

  @Override
  public boolean isWritable() {
    return ctx != null && ctx.channel().isWritable();
  }

  @Override
  public void setRequestReadEnabled(boolean enabled) {
    if (ctx != null && pipelined.isEmpty()) {
      ctx.channel().config().setAutoRead(enabled);
    }
  }

  @Override
  public String protocol() {
    return http10 ? "HTTP/1.0" : "HTTP/1.1";
  }

  @Override
  public boolean secure() {
    return secure;
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    ActiveStream s = stream;
    if (s != null) {
      s.onDownstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof dev.sluice.listener.ListenerDrainEvent e) {
      onListenerDrain(e.decision());
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // I/O errors (connection reset by peer): the connection is gone; channelInactive cleans up.
    HttpConnectionManager.LOG.debug("downstream connection error", cause);
    ctx.close();
  }

  private void scheduleFlush() {
    if (ctx != null) {
      flusher.schedule(ctx.executor());
    }
  }

  private void flushNow() {
    if (ctx != null) {
      ctx.flush();
    }
  }

  Channel channel() {
    return connection.channel;
  }
}
