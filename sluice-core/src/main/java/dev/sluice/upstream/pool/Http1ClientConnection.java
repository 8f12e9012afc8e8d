package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.ClusterStats;
import dev.sluice.http.DeadlineTimer;
import dev.sluice.http.FlushCoalescer;
import dev.sluice.http.Http1Wire;
import dev.sluice.http.Http2BackedHeaders;
import dev.sluice.http.WireByteCounter;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.netty.util.CharsetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One HTTP/1.1 connection to an upstream host, carrying one request at a time; the stream-model
 * headers are turned into an HTTP/1.1 request and the response back into stream-model headers.
 */
final class Http1ClientConnection extends ChannelInboundHandlerAdapter implements UpstreamStream {
  private static final AsciiString CONNECTION = AsciiString.cached("connection");
  private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
  private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
  private static final AsciiString TRANSFER_ENCODING = AsciiString.cached("transfer-encoding");
  private static final AsciiString UPGRADE = AsciiString.cached("upgrade");
  private static final AsciiString CODEC = AsciiString.cached("sluice-h1-client-codec");
  private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
  private static final AsciiString CHUNKED = AsciiString.cached("chunked");
  private static final AsciiString ZERO = AsciiString.cached("0");
  private static final AsciiString HTTP_1_1 = AsciiString.cached("HTTP/1.1");
  private static final AsciiString HEAD = AsciiString.cached("HEAD");
  private static final AsciiString CONNECT = AsciiString.cached("CONNECT");
  private static final AsciiString POST = AsciiString.cached("POST");
  private static final AsciiString PUT = AsciiString.cached("PUT");
  private static final AsciiString PATCH = AsciiString.cached("PATCH");

  private final Http1ConnectionPool pool;
  private final ClusterStats stats;
  private @Nullable ChannelHandlerContext ctx;
  private @Nullable UpstreamResponseCallbacks callbacks;
  private long requests;
  private boolean keepAlive = true;
  private boolean requestChunked;
  private boolean requestDone;
  private boolean responseStarted;
  private boolean responseDone;
  private boolean upgradeRequested;
  private boolean upgraded;
  private boolean closedLocally;
  /** Reached max_connection_duration: closes after the exchange in flight. */
  private boolean retired;
  /** A deadline moved per request, not a task scheduled and cancelled per request. */
  private @Nullable DeadlineTimer idleTimer;
  private final FlushCoalescer flusher = new FlushCoalescer(this::flushNow);
  private final Http1ResponseDecoder decoder = new Http1ResponseDecoder(
      new HttpDecoderConfig().setMaxHeaderSize(96 * 1024).setMaxChunkSize(64 * 1024).setValidateHeaders(true)
          .setHeadersFactory(Http2BackedHeaders.FACTORY).setTrailersFactory(Http2BackedHeaders.FACTORY));
  /** Initial capacity for the next request head's buffer. */
  private int headEstimate = 256;

  Http1ClientConnection(Http1ConnectionPool pool) {
    this.pool = pool;
    this.stats = pool.cluster.stats();
  }

  void initPipeline(io.netty.channel.ChannelPipeline p) {
    p.addLast("sluice-bytes", new WireByteCounter(stats.upstreamCxRxBytesTotal, stats.upstreamCxTxBytesTotal));
    p.addLast(CODEC.toString(), decoder);
    p.addLast("sluice-h1-client", this);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  /** Still fit for another request: open, keep-alive, under max_requests_per_connection. */
  boolean usable() {
    ChannelHandlerContext c = ctx;
    return c != null && c.channel().isActive() && keepAlive && !retired && !upgraded
        && (pool.maxRequestsPerConnection() == 0 || requests < pool.maxRequestsPerConnection());
  }

  UpstreamStream newStream(UpstreamResponseCallbacks cb) {
    callbacks = cb;
    requests++;
    requestDone = false;
    responseStarted = false;
    responseDone = false;
    requestChunked = false;
    upgradeRequested = false;
    if (ctx != null) {
      ctx.channel().config().setAutoRead(true);
    }
    return this;
  }

  /** Serves no further request: the pool closes it when the current exchange is done. */
  void retire() {
    retired = true;
  }

  void armIdleTimer(long nanos) {
    if (ctx != null) {
      DeadlineTimer t = idleTimer;
      if (t == null) {
        t = idleTimer = new DeadlineTimer(ctx.executor(), () -> pool.onConnectionIdleTimeout(this));
      }
      t.arm(nanos);
    }
  }

  void cancelIdleTimer() {
    if (idleTimer != null) {
      idleTimer.disarm();
    }
  }

  /** Disarms the idle timer and removes its pending task (the connection is closing). */
  private void stopIdleTimer() {
    if (idleTimer != null) {
      idleTimer.cancel();
    }
  }

  void close() {
    closedLocally = true;
    stopIdleTimer();
    if (ctx != null) {
      ctx.close();
    }
  }

  // ---------------------------------------------------------------- request out

  /**
   * Writes the request head as bytes, as Netty's request encoder would: the request line, Host
   * from :authority, the fields, then this codec's framing field (chunked for a streamed body,
   * a zero Content-Length for a body-bearing method without one).
   */
  @Override
  public void encodeHeaders(Http2Headers headers, boolean endStream) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    CharSequence method = headers.method();
    upgradeRequested = headers.contains(UPGRADE);
    AsciiString framing = null;
    AsciiString framingValue = null;
    if (!upgradeRequested && !headers.contains(CONTENT_LENGTH)) {
      if (!endStream) {
        framing = TRANSFER_ENCODING;
        framingValue = CHUNKED;
        requestChunked = true;
      } else if (bodyExpected(method)) {
        // RFC 9110 8.6: a request with a body-bearing method and no body states length 0.
        framing = CONTENT_LENGTH;
        framingValue = ZERO;
      }
    }
    ByteBuf buf = c.alloc().buffer(headEstimate);
    Http1Wire.writeAscii(buf, method);
    buf.writeByte(' ');
    writeRequestTarget(buf, headers.path().toString());
    buf.writeByte(' ');
    Http1Wire.writeAscii(buf, HTTP_1_1);
    Http1Wire.writeCrlf(buf);
    CharSequence authority = headers.authority();
    if (authority != null) {
      Http1Wire.writeHeader(buf, HttpHeaderNames.HOST, authority);
    }
    for (Map.Entry<CharSequence, CharSequence> e : headers) {
      CharSequence name = e.getKey();
      if (name.length() > 0 && name.charAt(0) == ':'
          || framing == TRANSFER_ENCODING && TRANSFER_ENCODING.contentEqualsIgnoreCase(name)) {
        continue;
      }
      Http1Wire.writeHeader(buf, name, e.getValue());
    }
    if (framing != null) {
      Http1Wire.writeHeader(buf, framing, framingValue);
    }
    Http1Wire.writeCrlf(buf);
    headEstimate = Math.max(64, (headEstimate * 4 + buf.readableBytes() + 32) / 5);
    decoder.onRequest(HEAD.contentEquals(method), CONNECT.contentEquals(method));
    c.write(buf, c.voidPromise());
    if (endStream) {
      requestDone = true;
    }
    scheduleFlush();
  }

  /** The path as Netty's request encoder writes it: UTF-8, "/" when empty. */
  private static void writeRequestTarget(ByteBuf buf, String uri) {
    if (uri.isEmpty()) {
      buf.writeByte('/');
      return;
    }
    int start = uri.indexOf("://");
    if (start != -1 && uri.charAt(0) != '/') {
      // Absolute form without a path: Netty adds the "/" before the query, or at the end.
      start += 3;
      int query = uri.indexOf('?', start);
      if (query == -1 ? uri.lastIndexOf('/') < start : uri.lastIndexOf('/', query) < start) {
        uri = query == -1 ? uri + "/" : uri.substring(0, query) + "/" + uri.substring(query);
      }
    }
    buf.writeCharSequence(uri, CharsetUtil.UTF_8);
  }

  private static boolean bodyExpected(CharSequence m) {
    return POST.contentEquals(m) || PUT.contentEquals(m) || PATCH.contentEquals(m);
  }

  @Override
  public void encodeData(ByteBuf data, boolean endStream) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      data.release();
      return;
    }
    if (upgraded || (upgradeRequested && !responseStarted)) {
      // The tunnel after a 101 carries raw bytes (WebSocket frames).
      if (data.isReadable()) {
        c.write(data, c.voidPromise());
      } else {
        data.release();
      }
      if (endStream && upgraded) {
        // The client closed its side of the tunnel: pass the half-close on.
        c.flush();
        if (c.channel() instanceof io.netty.channel.socket.DuplexChannel d) {
          d.shutdownOutput();
        } else {
          close();
        }
        return;
      }
      scheduleFlush();
      return;
    }
    Http1Wire.writeBody(c, data, requestChunked, endStream);
    if (endStream) {
      requestDone = true;
      maybeDone();
    }
    scheduleFlush();
  }

  @Override
  public void encodeTrailers(Http2Headers trailers) {
    ChannelHandlerContext c = ctx;
    if (c == null) {
      return;
    }
    if (requestChunked) {
      Http1Wire.writeLastChunk(c, trailers);
    }
    requestDone = true;
    scheduleFlush();
    maybeDone();
  }

  @Override
  public void reset() {
    callbacks = null;
    keepAlive = false;
    stats.upstreamCxDestroyLocal.inc();
    close();
  }

  @Override
  public boolean isWritable() {
    return ctx != null && ctx.channel().isWritable();
  }

  @Override
  public void setResponseReadEnabled(boolean enabled) {
    if (ctx != null) {
      ctx.channel().config().setAutoRead(enabled);
    }
  }

  @Override
  public String protocol() {
    return "HTTP/1.1";
  }

  @Override
  public InetSocketAddress localAddress() {
    // A pipe connection has no IP local address: the any-address, as before connecting.
    return ctx != null && ctx.channel().localAddress() instanceof InetSocketAddress a ? a : new InetSocketAddress(0);
  }

  // ---------------------------------------------------------------- response in

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    UpstreamResponseCallbacks cb = callbacks;
    if (upgraded) {
      if (msg instanceof ByteBuf buf && cb != null) {
        cb.onUpstreamData(buf, false);
      } else {
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    if (msg instanceof HttpResponse resp) {
      if (resp.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        protocolError();
        return;
      }
      int code = resp.status().code();
      if (code >= 100 && code < 200 && code != 101) {
        // 100-continue and other interim responses are absorbed (Envoy without proxy_100_continue).
        // The decoder ends each with an empty LastHttpContent: not the end of the final response.
        skipEmptyLast = !(msg instanceof LastHttpContent);
        ReferenceCountUtil.release(msg);
        return;
      }
      keepAlive = HttpUtil.isKeepAlive(resp);
      responseStarted = true;
      Http2Headers h = toHttp2Headers(resp);
      if (code == 101 && upgradeRequested) {
        upgraded = true;
        keepAlive = false;
        if (cb != null) {
          cb.onUpstreamHeaders(h, false);
          cb.onUpstreamUpgraded();
        }
        ReferenceCountUtil.release(msg);
        if (ctx.pipeline().get(CODEC.toString()) != null) {
          ctx.pipeline().remove(CODEC.toString());
        }
        return;
      }
      boolean end = msg instanceof LastHttpContent last && !last.content().isReadable() && last.trailingHeaders().isEmpty();
      boolean bodyless = code == 204 || code == 304 || HttpUtil.getContentLength(resp, -1L) == 0;
      if (cb != null) {
        cb.onUpstreamHeaders(h, end || bodyless);
      }
      if (end || bodyless) {
        responseDone = true;
        // A bodyless response still gets an empty LastHttpContent from the decoder: skip it.
        skipEmptyLast = !(msg instanceof LastHttpContent);
        ReferenceCountUtil.release(msg);
        maybeDone();
        return;
      }
      if (msg instanceof HttpContent content) {
        onContent(content);
      } else {
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    if (msg instanceof HttpContent content) {
      onContent(content);
      return;
    }
    ReferenceCountUtil.release(msg);
  }

  private boolean skipEmptyLast;

  private void onContent(HttpContent content) {
    UpstreamResponseCallbacks cb = callbacks;
    if (content.decoderResult().isFailure()) {
      content.release();
      protocolError();
      return;
    }
    if (skipEmptyLast && content instanceof LastHttpContent) {
      skipEmptyLast = false;
      content.release();
      return;
    }
    if (cb == null || responseDone) {
      content.release();
      return;
    }
    if (content instanceof LastHttpContent last) {
      HttpHeaders trailers = last.trailingHeaders();
      responseDone = true;
      if (trailers.isEmpty()) {
        cb.onUpstreamData(last.content(), true);
      } else {
        if (last.content().isReadable()) {
          cb.onUpstreamData(last.content(), false);
        } else {
          last.content().release();
        }
        cb.onUpstreamTrailers(((Http2BackedHeaders) trailers).http2());
      }
      maybeDone();
    } else {
      cb.onUpstreamData(content.content(), false);
    }
  }

  private void protocolError() {
    stats.upstreamCxProtocolError.inc();
    UpstreamResponseCallbacks cb = callbacks;
    callbacks = null;
    keepAlive = false;
    close();
    if (cb != null) {
      cb.onUpstreamReset(ResetReason.PROTOCOL_ERROR, "protocol error");
    }
  }

  /**
   * The response head as stream-model headers, in place: the decoder stored the fields in them
   * (names lower-cased); adds :status and removes the hop-by-hop fields (a 101 keeps its
   * Connection and Upgrade for the downstream handshake).
   */
  private static Http2Headers toHttp2Headers(HttpResponse resp) {
    Http2Headers out = ((Http2BackedHeaders) resp.headers()).http2();
    out.remove(KEEP_ALIVE);
    out.remove(PROXY_CONNECTION);
    out.remove(TRANSFER_ENCODING);
    if (resp.status().code() != 101) {
      out.remove(CONNECTION);
      out.remove(UPGRADE);
    }
    out.status(resp.status().codeAsText());
    return out;
  }

  /** Both directions finished: the connection goes back to the pool (or closes). */
  private void maybeDone() {
    if (requestDone && responseDone && callbacks != null) {
      callbacks = null;
      if (!keepAlive || retired) {
        close();
        return;
      }
      if (pool.maxRequestsPerConnection() > 0 && requests >= pool.maxRequestsPerConnection()) {
        stats.upstreamCxMaxRequests.inc();
      }
      pool.onConnectionReady(this);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    UpstreamResponseCallbacks cb = callbacks;
    if (cb != null) {
      cb.onUpstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stopIdleTimer();
    if (!closedLocally) {
      stats.upstreamCxDestroyRemote.inc();
    }
    UpstreamResponseCallbacks cb = callbacks;
    callbacks = null;
    pool.onConnectionClosed(this);
    if (cb != null) {
      if (upgraded) {
        cb.onUpstreamData(io.netty.buffer.Unpooled.EMPTY_BUFFER, true);
      } else if (!responseDone) {
        stats.upstreamCxDestroyWithActiveRq.inc();
        cb.onUpstreamReset(ResetReason.CONNECTION_TERMINATION, "connection termination");
      }
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
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
}
