package dev.sluice.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.testing.ProxyHarness;
import dev.sluice.testing.ScriptedUpstream;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A request waiting in a connection pool when its cluster is removed (the pool drains) is still
 * served, as Envoy's draining pools serve their pending streams. The pool's only connection
 * ({@code max_connections: 1}) is busy with a held request, so the second request waits in the
 * queue; the cluster goes away, then the held request completes. Before the fix the drained
 * HTTP/1.1 pool closed the freed connection and the drained HTTP/2 pool opened none, so the
 * waiting request never got an answer (XdsLoadTest's rare 10 s client timeouts).
 */
class DrainedPoolWaitingRequestTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<AutoCloseable> closing = new ArrayList<>();
  private int port;

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  @Test
  void http1PoolServesItsWaitingRequestAfterTheClusterIsRemoved() throws Exception {
    ScriptedUpstream backend = ScriptedUpstream.holdingHang("a");
    closing.add(backend);
    ProxyHarness proxy = proxy(ProxyHarness.staticCluster("c", LIMITS, backend.port()));
    CompletableFuture<HttpResponse<String>> held = get("/hang");
    await().atMost(WAIT).until(() -> backend.held() == 1);

    CompletableFuture<HttpResponse<String>> waiting = awaitPending(proxy, get("/x"));
    removeClusterAndDrain(proxy);
    backend.release();

    assertThat(held.join().statusCode()).isEqualTo(200);
    HttpResponse<String> r = waiting.join();
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("x-backend")).hasValue("a");
    assertThat(backend.connections.get()).isEqualTo(1);
  }

  @Test
  void http2PoolServesItsWaitingRequestAfterTheClusterIsRemoved() throws Exception {
    HoldingH2Backend backend = new HoldingH2Backend();
    closing.add(backend);
    ProxyHarness proxy = proxy(ProxyHarness.staticCluster("c", LIMITS + """

        typed_extension_protocol_options:
          envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
            "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
            explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 1}}""", backend.port()));
    CompletableFuture<HttpResponse<String>> held = get("/hang");
    await().atMost(WAIT).until(() -> backend.held.size() == 1);

    // The connection's one stream is taken and no second connection may open: the request waits.
    CompletableFuture<HttpResponse<String>> waiting = awaitPending(proxy, get("/x"));
    removeClusterAndDrain(proxy);
    backend.release();

    assertThat(held.join().statusCode()).isEqualTo(200);
    assertThat(waiting.join().statusCode()).isEqualTo(200);
  }

  /** One connection at most, so a second request waits in the pool. */
  private static final String LIMITS = "circuit_breakers: {thresholds: [{max_connections: 1}]}";

  /** A proxy with cluster {@code cluster} behind a listener routing everything to it. */
  private ProxyHarness proxy(Cluster cluster) {
    ProxyHarness proxy = new ProxyHarness(1, List.of(cluster));
    closing.add(proxy);
    port = proxy.addListener(ProxyHarness.httpListener("http", """
        stat_prefix: ingress
        http_filters:
        - name: envoy.filters.http.router
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        route_config:
          virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
            - match: {prefix: /}
              route: {cluster: c, timeout: 5s}
        """));
    return proxy;
  }

  private CompletableFuture<HttpResponse<String>> get(String path) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(WAIT).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static CompletableFuture<HttpResponse<String>> awaitPending(ProxyHarness proxy,
      CompletableFuture<HttpResponse<String>> request) {
    await().atMost(WAIT).until(() -> proxy.gauge("cluster.c.upstream_rq_pending_active") == 1);
    return request;
  }

  /** CDS removal on the control thread; the worker drains the cluster's pools before the next task it runs. */
  private static void removeClusterAndDrain(ProxyHarness proxy) throws Exception {
    assertThat(proxy.control.submit(() -> proxy.clusters.removeCluster("c")).get(10, TimeUnit.SECONDS)).isTrue();
    proxy.workers.loop(0).submit(() -> {}).get(10, TimeUnit.SECONDS);
  }

  /** An h2c backend that holds requests to {@code /hang} until {@link #release()} and answers others at once. */
  private static final class HoldingH2Backend implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final ConcurrentLinkedQueue<ChannelHandlerContext> held = new ConcurrentLinkedQueue<>();
    private final Channel server;

    HoldingH2Backend() throws InterruptedException {
      server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new Http2MultiplexHandler(
                  new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel s) {
                      s.pipeline().addLast(new StreamHandler());
                    }
                  }));
            }
          })
          .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port() {
      return ((InetSocketAddress) server.localAddress()).getPort();
    }

    void release() {
      ChannelHandlerContext ctx;
      while ((ctx = held.poll()) != null) {
        ctx.writeAndFlush(ok());
      }
    }

    private static DefaultHttp2HeadersFrame ok() {
      return new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), true);
    }

    /** Answers (or holds) a stream once the request has ended. */
    private final class StreamHandler extends ChannelInboundHandlerAdapter {
      private boolean hang;

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
          if (msg instanceof Http2HeadersFrame h && h.headers().path() != null) {
            hang = h.headers().path().toString().startsWith("/hang");
          }
          if (msg instanceof Http2StreamFrame f && endStream(f)) {
            if (hang) {
              held.add(ctx);
            } else {
              ctx.writeAndFlush(ok());
            }
          }
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }

      private static boolean endStream(Http2StreamFrame f) {
        return f instanceof Http2HeadersFrame h ? h.isEndStream()
            : f instanceof io.netty.handler.codec.http2.Http2DataFrame d && d.isEndStream();
      }
    }

    @Override
    public void close() {
      server.close().syncUninterruptibly();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
