package dev.sluice.upstream.pool;

import dev.sluice.api.upstream.ClusterStats;
import dev.sluice.http.FlushCoalescer;
import dev.sluice.http.WireByteCounter;
import dev.sluice.http.StreamWriteBudget;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/** One multiplexed HTTP/2 connection to an upstream host (h2c or h2 over TLS). */
final class Http2ClientConnection {
  private final Http2ConnectionPool pool;
  private final ClusterStats stats;
  private final long maxConcurrentStreams;
  private final long maxRequests;
  private @Nullable Handler handler;
  private @Nullable ChannelHandlerContext ctx;
  /** Streams handed out whose HEADERS are not written yet (they count against capacity). */
  private int reserved;
  private long streamsCreated;
  private boolean goingAway;

  Http2ClientConnection(Http2ConnectionPool pool) {
    this.pool = pool;
    this.stats = pool.cluster.stats();
    Http2ProtocolOptions o = pool.cluster.http2Options();
    this.maxConcurrentStreams = o.hasMaxConcurrentStreams() ? o.getMaxConcurrentStreams().getValue() : Integer.MAX_VALUE;
    this.maxRequests = pool.cluster.maxRequestsPerConnection();
  }

  void initPipeline(io.netty.channel.ChannelPipeline p) {
    Http2ProtocolOptions o = pool.cluster.http2Options();
    Http2Settings settings = new Http2Settings();
    settings.initialWindowSize(o.hasInitialStreamWindowSize() ? o.getInitialStreamWindowSize().getValue() : 268435456);
    settings.pushEnabled(false);
    p.addLast("sluice-bytes", new WireByteCounter(stats.upstreamCxRxBytesTotal, stats.upstreamCxTxBytesTotal));
    Handler h = new Builder(settings).build();
    handler = h;
    p.addLast("sluice-h2-client", h);
  }

  int activeStreams() {
    Handler h = handler;
    return h == null ? 0 : h.connection().local().numActiveStreams() + reserved;
  }

  boolean hasCapacity() {
    Handler h = handler;
    ChannelHandlerContext c = ctx;
    if (h == null || c == null || !c.channel().isActive() || goingAway) {
      return false;
    }
    if (maxRequests > 0 && streamsCreated >= maxRequests) {
      return false;
    }
    long limit = Math.min(maxConcurrentStreams, h.connection().local().maxActiveStreams());
    return activeStreams() < limit;
  }

  UpstreamStream newStream(UpstreamResponseCallbacks cb) {
    reserved++;
    streamsCreated++;
    if (maxRequests > 0 && streamsCreated == maxRequests) {
      stats.upstreamCxMaxRequests.inc();
    }
    return new ClientStream(cb);
  }

  /**
   * Takes no new stream and tells the upstream so with a GOAWAY (RFC 9113 6.8); the pool closes the
   * connection once its last stream ends.
   */
  void goAway() {
    goingAway = true;
    if (activeStreams() == 0) {
      close();
      return;
    }
    Handler h = handler;
    ChannelHandlerContext c = ctx;
    if (h != null && c != null && !h.connection().goAwaySent()) {
      h.goAway(c, 0, Http2Error.NO_ERROR.code(), io.netty.buffer.Unpooled.EMPTY_BUFFER, c.newPromise());
      h.scheduleFlush();
    }
  }

  /** A GOAWAY went either way: no new stream. */
  boolean goingAway() {
    return goingAway;
  }

  void close() {
    if (ctx != null) {
      stats.upstreamCxDestroyLocal.inc();
      ctx.close();
    }
  }

  private final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Handler, Builder> {
    Builder(Http2Settings settings) {
      server(false);
      initialSettings(settings);
      validateHeaders(true);
    }

    @Override
    public Handler build() {
      return super.build();
    }

    @Override
    protected Handler build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
      Handler h = new Handler(decoder, encoder, settings);
      frameListener(h);
      return h;
    }
  }

  /** The Netty handler: frames in, per-stream dispatch by a stream property. */
  private final class Handler extends Http2ConnectionHandler implements Http2FrameListener {
    private final Http2Connection.PropertyKey key;
    private final FlushCoalescer flusher = new FlushCoalescer(this::flushNow);

    Handler(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
      super(decoder, encoder, settings);
      key = connection().newKey();
      connection().addListener(new Http2ConnectionAdapter() {
        @Override
        public void onStreamClosed(Http2Stream s) {
          ClientStream st = s.getProperty(key);
          if (st != null) {
            st.onClosed();
          }
          pool.onCapacity(Http2ClientConnection.this);
        }

        @Override
        public void onGoAwayReceived(int lastStreamId, long errorCode, ByteBuf debugData) {
          goingAway = true;
        }
      });
    }

    @Override
    public void handlerAdded(ChannelHandlerContext c) throws Exception {
      ctx = c;
      super.handlerAdded(c);
    }

    @Override
    public void channelInactive(ChannelHandlerContext c) throws Exception {
      super.channelInactive(c);
      pool.onConnectionClosed(Http2ClientConnection.this);
    }

    private @Nullable ClientStream stream(int id) {
      Http2Stream s = connection().stream(id);
      return s == null ? null : s.getProperty(key);
    }

    @Override
    public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
      ClientStream st = stream(streamId);
      int n = data.readableBytes();
      if (st == null || st.callbacks == null) {
        return n + padding;
      }
      if (endOfStream) {
        st.responseDone = true;
      }
      st.callbacks.onUpstreamData(data.retain(), endOfStream);
      if (st.readEnabled || endOfStream) {
        return n + padding;
      }
      st.unconsumed += n;
      return padding;
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding, boolean endOfStream) {
      ClientStream st = stream(streamId);
      if (st == null || st.callbacks == null) {
        return;
      }
      if (!st.headersReceived) {
        CharSequence status = headers.status();
        if (status != null && status.length() == 3 && status.charAt(0) == '1' && !endOfStream) {
          return; // interim response (100-continue): absorbed
        }
        st.headersReceived = true;
        if (endOfStream) {
          st.responseDone = true;
        }
        st.callbacks.onUpstreamHeaders(headers, endOfStream);
      } else {
        st.responseDone = true;
        st.callbacks.onUpstreamTrailers(headers);
      }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency, short weight, boolean exclusive, int padding, boolean endOfStream) {
      onHeadersRead(c, streamId, headers, padding, endOfStream);
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
      ClientStream st = stream(streamId);
      if (st != null) {
        st.fail(errorCode == Http2Error.REFUSED_STREAM.code() ? ResetReason.REMOTE_REFUSED_STREAM_RESET : ResetReason.REMOTE_RESET);
      }
    }

    @Override
    public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) {
      pool.onCapacity(Http2ClientConnection.this);
    }

    @Override
    public void onPriorityRead(ChannelHandlerContext c, int streamId, int streamDependency, short weight, boolean exclusive) {}

    @Override
    public void onSettingsAckRead(ChannelHandlerContext c) {}

    @Override
    public void onPingRead(ChannelHandlerContext c, long data) {}

    @Override
    public void onPingAckRead(ChannelHandlerContext c, long data) {}

    @Override
    public void onPushPromiseRead(ChannelHandlerContext c, int streamId, int promisedStreamId, Http2Headers headers, int padding) {}

    @Override
    public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
      goingAway = true;
    }

    @Override
    public void onWindowUpdateRead(ChannelHandlerContext c, int streamId, int windowSizeIncrement) {}

    @Override
    public void onUnknownFrame(ChannelHandlerContext c, byte frameType, int streamId, Http2Flags flags, ByteBuf payload) {}

    @Override
    protected void onConnectionError(ChannelHandlerContext c, boolean outbound, Throwable cause, Http2Exception http2Ex) {
      stats.upstreamCxProtocolError.inc();
      super.onConnectionError(c, outbound, cause, http2Ex);
    }

    void scheduleFlush() {
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
  }

  /** One request/response exchange on this connection. */
  private final class ClientStream implements UpstreamStream {
    @Nullable UpstreamResponseCallbacks callbacks;
    int id = -1;
    boolean headersReceived;
    boolean responseDone;
    boolean readEnabled = true;
    int unconsumed;
    final StreamWriteBudget budget;

    ClientStream(UpstreamResponseCallbacks callbacks) {
      this.callbacks = callbacks;
      this.budget = new StreamWriteBudget(pool.cluster.perConnectionBufferLimitBytes(), () -> {
        UpstreamResponseCallbacks cb = this.callbacks;
        if (cb != null) {
          cb.onUpstreamWritabilityChanged(true);
        }
      });
    }

    @Override
    public void encodeHeaders(Http2Headers headers, boolean endStream) {
      Handler h = handler;
      ChannelHandlerContext c = ctx;
      reserved--;
      if (h == null || c == null) {
        fail(ResetReason.CONNECTION_TERMINATION);
        return;
      }
      id = h.connection().local().incrementAndGetNextStreamId();
      // Connection-specific headers are malformed in HTTP/2 (RFC 9113 8.2.2).
      headers.remove("connection");
      headers.remove("upgrade");
      h.encoder().writeHeaders(c, id, headers, 0, endStream, c.newPromise()).addListener(f -> {
        if (!f.isSuccess()) {
          fail(ResetReason.CONNECTION_TERMINATION);
        }
      });
      Http2Stream s = h.connection().stream(id);
      if (s != null) {
        s.setProperty(h.key, this);
      }
      h.scheduleFlush();
    }

    @Override
    public void encodeData(ByteBuf data, boolean endStream) {
      Handler h = handler;
      ChannelHandlerContext c = ctx;
      if (h == null || c == null || id < 0) {
        data.release();
        return;
      }
      h.encoder().writeData(c, id, data, 0, endStream, budget.track(data.readableBytes(), c.newPromise()));
      h.scheduleFlush();
    }

    @Override
    public void encodeTrailers(Http2Headers trailers) {
      Handler h = handler;
      ChannelHandlerContext c = ctx;
      if (h == null || c == null || id < 0) {
        return;
      }
      h.encoder().writeHeaders(c, id, trailers, 0, true, c.newPromise());
      h.scheduleFlush();
    }

    @Override
    public void reset() {
      callbacks = null;
      Handler h = handler;
      ChannelHandlerContext c = ctx;
      if (id < 0) {
        reserved = Math.max(0, reserved - 1);
        return;
      }
      if (h != null && c != null) {
        Http2Stream s = h.connection().stream(id);
        if (s != null && s.state() != Http2Stream.State.CLOSED) {
          h.resetStream(c, id, Http2Error.CANCEL.code(), c.newPromise());
          h.scheduleFlush();
        }
      }
    }

    @Override
    public boolean isWritable() {
      return budget.writable();
    }

    @Override
    public void setResponseReadEnabled(boolean enabled) {
      readEnabled = enabled;
      Handler h = handler;
      if (enabled && unconsumed > 0 && h != null) {
        int n = unconsumed;
        unconsumed = 0;
        Http2Stream s = h.connection().stream(id);
        if (s != null) {
          try {
            h.connection().local().flowController().consumeBytes(s, n);
            h.scheduleFlush();
          } catch (Http2Exception e) {
            // The stream is gone; nothing to return.
          }
        }
      }
    }

    @Override
    public String protocol() {
      return "HTTP/2";
    }

    @Override
    public InetSocketAddress localAddress() {
      // A pipe connection has no IP local address: the any-address, as before connecting.
      return ctx != null && ctx.channel().localAddress() instanceof InetSocketAddress a ? a : new InetSocketAddress(0);
    }

    void fail(ResetReason reason) {
      UpstreamResponseCallbacks cb = callbacks;
      callbacks = null;
      if (cb != null && !responseDone) {
        stats.upstreamRqRxReset.inc();
        cb.onUpstreamReset(reason, reason.text());
      }
    }

    void onClosed() {
      if (!responseDone) {
        fail(ResetReason.CONNECTION_TERMINATION);
      }
      callbacks = null;
    }
  }
}
