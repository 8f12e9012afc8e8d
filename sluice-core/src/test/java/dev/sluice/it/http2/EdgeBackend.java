package dev.sluice.it.http2;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A scriptable backend speaking HTTP/1.1 or h2c (prior knowledge) with behaviours by path that
 * {@code TestBackend} cannot show: {@code /upload} answers only after the whole body (counting
 * what arrived), {@code /reset-before-headers} and {@code /reset-after-headers} reset the stream
 * (HTTP/2) or close the connection (HTTP/1), {@code /headers-only} sends headers and then nothing,
 * {@code /big/N} (HTTP/1) writes N bytes only while its socket is writable. It records cancelled
 * streams (RST_STREAM received, HTTP/2) and closed connections.
 */
final class EdgeBackend implements AutoCloseable {
  final AtomicInteger requests = new AtomicInteger();
  final AtomicLong bodyBytes = new AtomicLong();
  final AtomicInteger resetsReceived = new AtomicInteger();
  final AtomicInteger connectionsClosed = new AtomicInteger();
  /** {@code /big/N}: bytes handed to the socket so far, and whether the writer waits for writability. */
  final AtomicLong bigWritten = new AtomicLong();
  volatile boolean bigBlocked;
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;

  EdgeBackend(boolean http2) throws InterruptedException {
    server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.SO_SNDBUF, 64 * 1024)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.closeFuture().addListener(f -> connectionsClosed.incrementAndGet());
            if (http2) {
              H2 h = new H2();
              ch.pipeline().addLast(new Http2ConnectionHandlerBuilder().server(true).frameListener(h).build());
              ch.pipeline().addLast(h.bind());
            } else {
              ch.pipeline().addLast(new HttpServerCodec(), new H1());
            }
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  private static ByteBuf text(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  /** HTTP/2: a frame listener that answers through the connection handler it sits behind. */
  private final class H2 extends Http2FrameAdapter {
    private ChannelHandlerContext ctx;
    private Http2ConnectionHandler handler;
    private final java.util.Map<Integer, String> paths = new java.util.HashMap<>();

    ChannelInboundHandlerAdapter bind() {
      return new ChannelInboundHandlerAdapter() {
        @Override
        public void handlerAdded(ChannelHandlerContext c) {
          ctx = c;
          handler = c.pipeline().get(Http2ConnectionHandler.class);
        }
      };
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int id, Http2Headers headers, int padding, boolean end) {
      String path = headers.path() == null ? "" : headers.path().toString();
      if (paths.containsKey(id)) {
        return; // trailers
      }
      requests.incrementAndGet();
      paths.put(id, path);
      if (path.startsWith("/reset-before-headers")) {
        handler.resetStream(ctx, id, Http2Error.INTERNAL_ERROR.code(), ctx.newPromise());
        ctx.flush();
      } else if (path.startsWith("/reset-after-headers")) {
        handler.encoder().writeHeaders(ctx, id, new DefaultHttp2Headers().status("200"), 0, false, ctx.newPromise());
        handler.encoder().writeData(ctx, id, text("partial"), 0, false, ctx.newPromise());
        ctx.flush();
        ctx.executor().schedule(() -> {
          handler.resetStream(ctx, id, Http2Error.INTERNAL_ERROR.code(), ctx.newPromise());
          ctx.flush();
        }, 50, TimeUnit.MILLISECONDS);
      } else if (path.startsWith("/headers-only")) {
        handler.encoder().writeHeaders(ctx, id, new DefaultHttp2Headers().status("200"), 0, false, ctx.newPromise());
        ctx.flush();
      } else if (end) {
        respond(id, "ok " + path);
      }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext c, int id, Http2Headers headers, int dep, short weight, boolean excl, int padding, boolean end) {
      onHeadersRead(c, id, headers, padding, end);
    }

    @Override
    public int onDataRead(ChannelHandlerContext c, int id, ByteBuf data, int padding, boolean end) {
      int n = data.readableBytes();
      bodyBytes.addAndGet(n);
      if (end) {
        respond(id, "got " + bodyBytes.get());
      }
      return n + padding;
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext c, int id, long errorCode) {
      resetsReceived.incrementAndGet();
    }

    private void respond(int id, String body) {
      handler.encoder().writeHeaders(ctx, id, new DefaultHttp2Headers().status("200"), 0, false, ctx.newPromise());
      handler.encoder().writeData(ctx, id, text(body), 0, true, ctx.newPromise());
      ctx.flush();
    }
  }

  /** HTTP/1.1, one request at a time, body streamed (never aggregated). */
  private final class H1 extends ChannelInboundHandlerAdapter {
    private String path = "";
    private long bigRemaining;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpRequest req) {
          requests.incrementAndGet();
          path = req.uri();
          if (path.startsWith("/reset-before-headers")) {
            ctx.close();
            return;
          }
          if (path.startsWith("/reset-after-headers")) {
            HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 1000);
            ctx.write(r);
            ctx.writeAndFlush(new DefaultHttpContent(text("partial")));
            ctx.executor().schedule(() -> ctx.close(), 50, TimeUnit.MILLISECONDS);
            return;
          }
          if (path.startsWith("/headers-only")) {
            HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 10);
            ctx.writeAndFlush(r);
            return;
          }
          if (path.startsWith("/big/")) {
            bigRemaining = Long.parseLong(path.substring(5));
            HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, bigRemaining);
            ctx.write(r);
            writeBig(ctx);
            return;
          }
        }
        if (msg instanceof HttpContent c) {
          bodyBytes.addAndGet(c.content().readableBytes());
          if (c instanceof LastHttpContent && !path.startsWith("/big/") && !path.startsWith("/headers-only") && !path.startsWith("/reset")) {
            ByteBuf body = text(path.startsWith("/upload") ? "got " + bodyBytes.get() : "ok " + path);
            HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            ctx.write(r);
            ctx.writeAndFlush(new DefaultLastHttpContent(body));
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    /** The body in 16 KiB chunks, the pattern byte i = 'a' + i % 26, only while writable. */
    private void writeBig(ChannelHandlerContext ctx) {
      while (bigRemaining > 0 && ctx.channel().isWritable()) {
        int n = (int) Math.min(16 * 1024, bigRemaining);
        long offset = bigWritten.get();
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
          b[i] = (byte) ('a' + (offset + i) % 26);
        }
        bigRemaining -= n;
        bigWritten.addAndGet(n);
        ctx.writeAndFlush(bigRemaining == 0 ? new DefaultLastHttpContent(Unpooled.wrappedBuffer(b)) : new DefaultHttpContent(Unpooled.wrappedBuffer(b)));
      }
      bigBlocked = bigRemaining > 0;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable() && bigRemaining > 0) {
        writeBig(ctx);
      }
      ctx.fireChannelWritabilityChanged();
    }
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
