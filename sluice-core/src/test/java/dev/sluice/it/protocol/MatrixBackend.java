package dev.sluice.it.protocol;

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
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
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
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLException;

/**
 * The upstream of the protocol matrix: HTTP/1.1 and h2c (prior knowledge) on {@link #plainPort()},
 * and TLS with ALPN {@code h2}/{@code http/1.1} on {@link #tlsPort()}, all on 127.0.0.1. Paths:
 * {@code /headers} (the request headers as {@code name: value} lines, plus {@code x-seen-protocol}
 * and {@code x-seen-sni}, what this side observed), {@code /echo} (the body back),
 * {@code /trailers} (a body, then trailers {@code x-trailer-one: 1} and {@code x-trailer-two: two}),
 * {@code /bytes/N} ({@link #pattern(int)} of N bytes).
 */
final class MatrixBackend implements AutoCloseable {
  static final String H2 = "h2";
  static final String HTTP1 = "http/1.1";
  static final byte[] TRAILERS_BODY = "body before trailers".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_BODY = 16 * 1024 * 1024;

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel plain;
  private final Channel tls;

  MatrixBackend(MatrixPki pki) throws InterruptedException, SSLException {
    SslContext ssl = SslContextBuilder.forServer(pki.backendCert.toFile(), pki.backendKey.toFile())
        .sslProvider(SslProvider.JDK)
        .applicationProtocolConfig(new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            H2, HTTP1))
        .build();
    plain = bind(new ChannelInitializer<SocketChannel>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        HttpServerCodec codec = new HttpServerCodec();
        HttpServerUpgradeHandler upgrade = new HttpServerUpgradeHandler(codec, protocol -> null);
        ch.pipeline().addLast(new CleartextHttp2ServerUpgradeHandler(codec, upgrade, new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel c) {
            c.pipeline().addLast(h2Handler(), new Handler());
          }
        }));
        ch.pipeline().addLast(new HttpObjectAggregator(MAX_BODY), new Handler());
      }
    });
    tls = bind(new ChannelInitializer<SocketChannel>() {
      @Override
      protected void initChannel(SocketChannel ch) {
        ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
        ch.pipeline().addLast(new ApplicationProtocolNegotiationHandler(HTTP1) {
          @Override
          protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            ChannelPipeline p = ctx.pipeline();
            if (H2.equals(protocol)) {
              p.addLast(h2Handler(), new Handler());
            } else {
              p.addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_BODY), new Handler());
            }
          }
        });
      }
    });
  }

  private Channel bind(ChannelInitializer<SocketChannel> init) throws InterruptedException {
    return new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(init)
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }

  private static HttpToHttp2ConnectionHandler h2Handler() {
    Http2Connection connection = new DefaultHttp2Connection(true);
    return new HttpToHttp2ConnectionHandlerBuilder()
        .connection(connection)
        .frameListener(new InboundHttp2ToHttpAdapterBuilder(connection).maxContentLength(MAX_BODY).propagateSettings(false).build())
        .build();
  }

  int plainPort() {
    return ((InetSocketAddress) plain.localAddress()).getPort();
  }

  int tlsPort() {
    return ((InetSocketAddress) tls.localAddress()).getPort();
  }

  /** N bytes that differ from one position to the next, so a lost, duplicated or reordered chunk shows. */
  static byte[] pattern(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 31 + (i >>> 8));
    }
    return b;
  }

  private static String sni(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return "-";
    }
    for (SNIServerName n : ((ExtendedSSLSession) ssl.engine().getSession()).getRequestedServerNames()) {
      if (n instanceof SNIHostName h) {
        return h.getAsciiName();
      }
    }
    return "";
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      String streamId = req.headers().get(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text());
      String path = req.uri();
      ByteBuf body;
      boolean trailers = false;
      if (path.startsWith("/headers")) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : req.headers()) {
          sb.append(e.getKey().toLowerCase()).append(": ").append(e.getValue()).append('\n');
        }
        sb.append("x-seen-protocol: ").append(streamId != null ? H2 : HTTP1).append('\n');
        sb.append("x-seen-sni: ").append(sni(ctx)).append('\n');
        sb.append("x-seen-path: ").append(path).append('\n');
        body = Unpooled.copiedBuffer(sb, StandardCharsets.UTF_8);
      } else if (path.startsWith("/echo")) {
        body = req.content().retainedDuplicate();
      } else if (path.startsWith("/bytes/")) {
        body = Unpooled.wrappedBuffer(pattern(Integer.parseInt(path.substring(7))));
      } else if (path.startsWith("/trailers")) {
        body = Unpooled.wrappedBuffer(TRAILERS_BODY);
        trailers = true;
      } else {
        body = Unpooled.copiedBuffer("ok " + path, StandardCharsets.UTF_8);
      }
      FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
      if (trailers) {
        // HTTP/1.1 carries trailers only after a chunked body (RFC 9112 7.1.2).
        if (streamId == null) {
          r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        r.trailingHeaders().set("x-trailer-one", "1").set("x-trailer-two", "two");
      } else {
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
      }
      if (streamId != null) {
        r.headers().set(HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text(), streamId);
      } else if (!HttpUtil.isKeepAlive(req)) {
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      ctx.writeAndFlush(r);
    }
  }

  @Override
  public void close() {
    plain.close().syncUninterruptibly();
    tls.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
