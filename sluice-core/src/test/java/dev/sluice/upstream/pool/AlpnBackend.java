package dev.sluice.upstream.pool;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;
import java.util.ArrayList;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
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
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.codec.http2.HttpToHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.InboundHttp2ToHttpAdapterBuilder;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import dev.sluice.testing.Openssl;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TLS backend on 127.0.0.1 that offers the given ALPN protocols and speaks what was negotiated
 * (HTTP/2 for h2, else HTTP/1.1); every response body is {@code "<alpn> <path>"}. With
 * {@code holdHandshakes}, accepted connections read nothing (so their handshakes wait) until
 * {@link #releaseHandshakes()}.
 */
final class AlpnBackend implements AutoCloseable {
  final AtomicInteger connections = new AtomicInteger();
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final List<Gate> gates = new CopyOnWriteArrayList<>();
  /** Closed explicitly: an event loop shutting down may end before its channels' close ran. */
  private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private volatile boolean holding;
  private final Channel server;

  AlpnBackend(Path certificate, Path key, boolean holdHandshakes, String... alpn) throws Exception {
    this(certificate, key, 0, holdHandshakes, alpn);
  }

  /** On {@code port} (0: any free one). */
  AlpnBackend(Path certificate, Path key, int port, boolean holdHandshakes, String... alpn) throws Exception {
    this.holding = holdHandshakes;
    SslContext ssl = SslContextBuilder.forServer(certificate.toFile(), key.toFile())
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn))
        .build();
    server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.incrementAndGet();
            children.add(ch);
            if (holding) {
              Gate gate = new Gate();
              gates.add(gate);
              ch.pipeline().addLast(gate);
            }
            ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
            ch.pipeline().addLast(new ApplicationProtocolNegotiationHandler(ApplicationProtocolNames.HTTP_1_1) {
              @Override
              protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
                if (protocol.equals(ApplicationProtocolNames.HTTP_2)) {
                  Http2Connection connection = new DefaultHttp2Connection(true);
                  ctx.pipeline().addLast(new HttpToHttp2ConnectionHandlerBuilder().connection(connection)
                      .frameListener(new InboundHttp2ToHttpAdapterBuilder(connection).maxContentLength(1 << 20)
                          .propagateSettings(false).build())
                      .build());
                  ctx.pipeline().addLast(new Responder("h2"));
                } else {
                  ctx.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Responder("http/1.1"));
                }
              }
            });
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", port)).sync().channel();
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** Lets the held connections (and any later one) through: their handshakes proceed. */
  void releaseHandshakes() {
    holding = false;
    for (Gate g : gates) {
      g.open();
    }
  }

  /** Keeps a connection's bytes (the ClientHello) from the TLS handler until opened. */
  private static final class Gate extends ChannelInboundHandlerAdapter {
    private final List<Object> queued = new ArrayList<>();
    private @Nullable ChannelHandlerContext ctx;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      queued.add(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {}

    void open() {
      ChannelHandlerContext c = ctx;
      if (c == null) {
        return;
      }
      c.executor().execute(() -> {
        for (Object m : queued) {
          c.fireChannelRead(m);
        }
        queued.clear();
        c.fireChannelReadComplete();
        c.pipeline().remove(this);
      });
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      queued.forEach(ReferenceCountUtil::release);
      queued.clear();
    }
  }

  private static final class Responder extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final String protocol;

    Responder(String protocol) {
      this.protocol = protocol;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      ByteBuf body = Unpooled.copiedBuffer(protocol + " " + req.uri(), StandardCharsets.UTF_8);
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
      r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
      String streamId = req.headers().get(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
      if (streamId != null) {
        r.headers().set(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text(), streamId);
      }
      ctx.writeAndFlush(r);
    }
  }

  /** A self-signed EC certificate and PKCS#8 key made with the {@code openssl} command. */
  static Path[] selfSigned(Path dir) throws IOException, InterruptedException {
    Path cert = dir.resolve("backend.crt");
    Path key = dir.resolve("backend.key");
    Openssl.run(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=backend.test", "-days", "2",
        "-addext", "subjectAltName=DNS:backend.test,IP:127.0.0.1");
    if (!Files.exists(key)) {
      throw new IOException("openssl wrote no key: " + key);
    }
    return new Path[] {cert, key};
  }

  @Override
  public void close() {
    if (group.isShuttingDown()) {
      return;
    }
    server.close().syncUninterruptibly();
    children.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
