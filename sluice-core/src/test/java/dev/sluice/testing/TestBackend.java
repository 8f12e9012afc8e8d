package dev.sluice.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.codec.http2.HttpToHttp2ConnectionHandler;
import io.netty.handler.codec.http2.HttpToHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.InboundHttp2ToHttpAdapterBuilder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server for tests, speaking HTTP/1.1 and h2c (prior knowledge) on one port, built on
 * Netty's own server codecs. Every response carries {@code x-backend: <name>}. Paths:
 * {@code /headers} (request headers as {@code name: value} lines), {@code /echo} (the body back),
 * {@code /status/NNN}, {@code /delay/MS}, {@code /bytes/N}, {@code /close} (closes without answering),
 * anything else: 200 "ok <method> <path>".
 */
public final class TestBackend implements AutoCloseable {
  public final String name;
  public final AtomicInteger requests = new AtomicInteger();
  public final AtomicInteger connections = new AtomicInteger();
  public final ConcurrentLinkedQueue<FullHttpRequest> seen = new ConcurrentLinkedQueue<>();
  /** Accepted connections, closed by {@link #close()} so a stopped backend really drops them. */
  private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel server;

  public TestBackend(String name) throws InterruptedException {
    this.name = name;
    this.server = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.incrementAndGet();
            children.add(ch);
            ChannelPipeline p = ch.pipeline();
            HttpServerCodec codec = new HttpServerCodec();
            HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(codec, protocol -> null);
            p.addLast(new CleartextHttp2ServerUpgradeHandler(codec, upgrade, new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel c) {
                c.pipeline().addLast(h2Handler());
                c.pipeline().addLast(new Handler());
              }
            }));
            p.addLast(new HttpObjectAggregator(16 * 1024 * 1024));
            p.addLast(new Handler());
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0))
        .sync()
        .channel();
  }

  private static HttpToHttp2ConnectionHandler h2Handler() {
    Http2Connection connection = new DefaultHttp2Connection(true);
    return new HttpToHttp2ConnectionHandlerBuilder()
        .connection(connection)
        .frameListener(new InboundHttp2ToHttpAdapterBuilder(connection).maxContentLength(16 * 1024 * 1024).propagateSettings(false).build())
        .build();
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      requests.incrementAndGet();
      seen.add(req.retainedDuplicate());
      String path = req.uri();
      String streamId = req.headers().get(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
      if (path.startsWith("/close")) {
        ctx.close();
        return;
      }
      if (path.startsWith("/delay/")) {
        long ms = Long.parseLong(path.substring(7).replaceAll("[^0-9].*", ""));
        FullHttpResponse r = respond(req, HttpResponseStatus.OK, Unpooled.copiedBuffer("delayed", StandardCharsets.UTF_8), streamId);
        ctx.executor().schedule(() -> ctx.writeAndFlush(r), ms, TimeUnit.MILLISECONDS);
        return;
      }
      ByteBuf body;
      HttpResponseStatus status = HttpResponseStatus.OK;
      if (path.startsWith("/headers")) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : req.headers()) {
          sb.append(e.getKey().toLowerCase()).append(": ").append(e.getValue()).append('\n');
        }
        sb.append(":path: ").append(path).append('\n');
        sb.append(":method: ").append(req.method()).append('\n');
        body = Unpooled.copiedBuffer(sb, StandardCharsets.UTF_8);
      } else if (path.startsWith("/echo")) {
        body = req.content().retainedDuplicate();
      } else if (path.startsWith("/status/")) {
        status = HttpResponseStatus.valueOf(Integer.parseInt(path.substring(8, 11)));
        body = Unpooled.copiedBuffer("status " + status.code(), StandardCharsets.UTF_8);
      } else if (path.startsWith("/bytes/")) {
        int n = Integer.parseInt(path.substring(7).replaceAll("[^0-9].*", ""));
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
          b[i] = (byte) ('a' + i % 26);
        }
        body = Unpooled.wrappedBuffer(b);
      } else {
        body = Unpooled.copiedBuffer("ok " + req.method() + " " + path, StandardCharsets.UTF_8);
      }
      ctx.writeAndFlush(respond(req, status, body, streamId));
    }

    private FullHttpResponse respond(FullHttpRequest req, HttpResponseStatus status, ByteBuf body, String streamId) {
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
      r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
      r.headers().set("x-backend", name);
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
      if (streamId != null) {
        r.headers().set(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text(), streamId);
      }
      if (!HttpUtil.isKeepAlive(req)) {
        r.headers().set(HttpHeaderNames.CONNECTION, "close");
      }
      return r;
    }
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    children.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    FullHttpRequest r;
    while ((r = seen.poll()) != null) {
      r.release();
    }
  }
}
