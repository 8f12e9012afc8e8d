package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.edsCluster;
import static dev.sluice.testing.XdsProtos.everyPath;
import static dev.sluice.testing.XdsProtos.httpListener;
import static dev.sluice.testing.XdsProtos.oneEndpoint;
import static dev.sluice.testing.XdsProtos.rdsConnectionManager;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.AdsBootstrap;
import dev.sluice.testing.TestBackend;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestControlPlane.Service;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hitless updates under load: a full Sluice server driven over ADS by java-control-plane while
 * HTTP/1.1 keep-alive and HTTP/2 (prior knowledge) clients keep requests flowing. Every 100 ms the
 * control plane publishes a new snapshot that changes the route (a version header), the weights
 * between a stable cluster and a rotating one, and the stable cluster's endpoint; every fourth
 * snapshot adds the next rotating cluster, moves the route to it and removes the previous one, all
 * in one push, and the snapshot after replaces the new cluster (its upstream protocol flips between
 * HTTP/1.1 and HTTP/2, so its connection pools are replaced). Every response must be a 200 from one
 * of the backends; each route version and each rotating cluster must be seen in responses, proving
 * every change took effect. The updater waits for each route version to be served before the next
 * push, so "every 100 ms" is a floor on a loaded machine, not a deadline.
 */
class XdsLoadTest {
  private static final String GROUP = "sidecar";
  private static final int STEPS = 40;
  private static final Duration STEP = Duration.ofMillis(100);
  /** How long one change may take to show in responses before the test counts it as not applied. */
  private static final long EFFECT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

  private static final java.nio.file.Path ACCESS_LOG = accessLogPath();
  private final SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<TestBackend> backends = new ArrayList<>();
  private final EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private TestControlPlane controlPlane;

  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong ok = new AtomicLong();
  private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
  private final Set<Integer> routeVersionsSeen = ConcurrentHashMap.newKeySet();
  private final AtomicInteger highestRouteVersion = new AtomicInteger(-1);
  private final Set<String> clustersSeen = ConcurrentHashMap.newKeySet();
  private final Map<String, Set<String>> backendsByCluster = new ConcurrentHashMap<>();

  @AfterEach
  void stop() throws Exception {
    running.set(false);
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
    clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    if (controlPlane != null) {
      controlPlane.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"GRPC", "DELTA_GRPC"})
  void requestsNeverFailWhileRoutesWeightsClustersAndEndpointsChangeEvery100ms(String apiType) throws Exception {
    for (int i = 0; i < 4; i++) {
      TestBackend b = new TestBackend("b" + i);
      closeables.add(b);
      backends.add(b);
    }
    cache.setSnapshot(GROUP, snapshot(0));
    controlPlane = TestControlPlane.start(cache, Service.ADS);
    Server server = TestServers.start(AdsBootstrap.toPort(controlPlane.port()).node("load").http2().apiType(apiType).yaml());
    closeables.add(server);
    int port = server.listenerPort("http");

    List<Thread> loaders = new ArrayList<>();
    CountDownLatch warm = new CountDownLatch(4);
    HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    for (int i = 0; i < 2; i++) {
      loaders.add(Thread.ofPlatform().name("h1-load-" + i).start(() -> http1Loop(h1, port, warm)));
    }
    for (int i = 0; i < 2; i++) {
      Channel connection = http2Connection(port);
      for (int j = 0; j < 2; j++) {
        CountDownLatch w = j == 0 ? warm : new CountDownLatch(1);
        loaders.add(Thread.ofPlatform().name("h2-load-" + i + "-" + j).start(() -> http2Loop(connection, w)));
      }
    }
    assertThat(warm.await(20, TimeUnit.SECONDS)).as("every client got its first response").isTrue();

    for (int step = 1; step <= STEPS && failures.isEmpty(); step++) {
      long next = System.nanoTime() + STEP.toNanos();
      cache.setSnapshot(GROUP, snapshot(step));
      awaitRouteVersion(step);
      long left = next - System.nanoTime();
      if (left > 0) {
        TimeUnit.NANOSECONDS.sleep(left);
      }
    }
    running.set(false);
    for (Thread t : loaders) {
      t.join(TimeUnit.SECONDS.toMillis(20));
    }

    assertThat(failures).as("failed requests (of %d ok); access log lines other than 200:%n%s", ok.get(),
        String.join("\n", nonOkAccessLogLines())).isEmpty();
    for (int step = 0; step <= STEPS; step++) {
      assertThat(routeVersionsSeen).as("route version %d served", step).contains(step);
    }
    // Every rotating cluster the route held for a whole cycle served requests, from its own backend.
    for (int k = 1; k < routedRotating(STEPS); k++) {
      assertThat(clustersSeen).contains(rotating(k));
      assertThat(backendsByCluster.get(rotating(k))).containsExactly(rotatingBackend(k));
    }
    // The stable cluster's endpoint moved between two backends.
    assertThat(backendsByCluster.get("stable")).containsExactlyInAnyOrder("b0", "b1");
    // The replaced clusters carried HTTP/2 upstream requests too (their pools were rebuilt).
    assertThat(backends.get(2).seen.stream().anyMatch(r -> r.headers().contains(
        HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text()))
        || backends.get(3).seen.stream().anyMatch(r -> r.headers().contains(
        HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text()))).isTrue();
    assertThat(ok.get()).isGreaterThan(STEPS);
  }

  /** The proxy's access log lines for responses other than 200: they say why (flags and details). */
  private List<String> nonOkAccessLogLines() throws InterruptedException {
    // Lines reach the file at the flush interval (Envoy's 10 s default): wait for them on failure only.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(failures.isEmpty() ? 0 : 12);
    List<String> lines;
    do {
      try {
        lines = java.nio.file.Files.readAllLines(ACCESS_LOG).stream().filter(l -> !l.startsWith("200 ")).toList();
      } catch (java.io.IOException e) {
        return List.of("(access log unreadable: " + e + ")");
      }
      if (!lines.isEmpty()) {
        return lines;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < deadline);
    return lines;
  }

  /** Waits (bounded) until some response carries route version {@code step}. */
  private void awaitRouteVersion(int step) throws InterruptedException {
    long deadline = System.nanoTime() + EFFECT_TIMEOUT_NANOS;
    while (highestRouteVersion.get() < step && failures.isEmpty()) {
      if (System.nanoTime() > deadline) {
        failures.add("route version " + step + " not served within 10 s");
        return;
      }
      Thread.sleep(1);
    }
  }

  private static java.nio.file.Path accessLogPath() {
    try {
      java.nio.file.Path p = java.nio.file.Files.createTempFile("xds-load-access", ".log");
      p.toFile().deleteOnExit();
      return p;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  // ---- the control plane's sequence ----

  private static String rotating(int k) {
    return "rot" + k;
  }

  /** Rotating clusters alternate between backends b2 and b3. */
  private static String rotatingBackend(int k) {
    return "b" + (2 + k % 2);
  }

  /** The rotating cluster the route points at in {@code step}: cluster k takes over at 4k-2. */
  private static int routedRotating(int step) {
    return (step + 2) / 4;
  }

  /**
   * Step s: the route (version s) splits between "stable" and the routed rotating cluster with a
   * weight that changes every step; stable's endpoint alternates b0/b1.
   */
  private Snapshot snapshot(int step) {
    int routed = routedRotating(step);
    List<Cluster> clusters = new ArrayList<>();
    List<ClusterLoadAssignment> endpoints = new ArrayList<>();
    clusters.add(cluster("stable", false));
    endpoints.add(oneEndpoint("stable", backends.get(step % 2).port()));
    // Present: the routed one, the one before it until its removal step, the next one from its add step.
    // Cluster k: added with the route moving to it at 4k-2, replaced at 4k-1, removed with the
    // route leaving it at 4k+2.
    for (int k = Math.max(0, routed - 1); k <= routed; k++) {
      if (step >= 4 * k - 2 && step < 4 * k + 2) {
        boolean replaced = step >= 4 * k - 1;
        clusters.add(cluster(rotating(k), replaced == (k % 2 == 0)));
        endpoints.add(oneEndpoint(rotating(k), backends.get(2 + k % 2).port()));
      }
    }
    int weight = 10 + (step * 37) % 81;
    RouteConfiguration routes = everyPath("local", Route.newBuilder()
        .setRoute(RouteAction.newBuilder().setWeightedClusters(WeightedCluster.newBuilder()
            .addClusters(weighted("stable", weight))
            .addClusters(weighted(rotating(routed), 100 - weight)))))
        .toBuilder().addResponseHeadersToAdd(header("x-route-version", Integer.toString(step))).build();
    return Snapshot.create(clusters, endpoints, List.of(listener()), List.of(routes), List.of(),
        Integer.toString(step));
  }

  private static WeightedCluster.ClusterWeight.Builder weighted(String cluster, int weight) {
    return WeightedCluster.ClusterWeight.newBuilder().setName(cluster).setWeight(UInt32Value.of(weight))
        .addResponseHeadersToAdd(header("x-cluster", cluster));
  }

  private static HeaderValueOption header(String name, String value) {
    return HeaderValueOption.newBuilder().setHeader(HeaderValue.newBuilder().setKey(name).setValue(value)).build();
  }

  private static Cluster cluster(String name, boolean http2) {
    Cluster.Builder c = edsCluster(name).toBuilder();
    if (http2) {
      c.putTypedExtensionProtocolOptions("envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
          Any.pack(HttpProtocolOptions.newBuilder().setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig
              .newBuilder().setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance())).build()));
    }
    return c.build();
  }

  private static Listener listener() {
    HttpConnectionManager hcm = rdsConnectionManager("ingress_http", "local").toBuilder()
        .addAccessLog(AccessLog.newBuilder().setName("envoy.access_loggers.file")
            .setTypedConfig(Any.pack(FileAccessLog.newBuilder().setPath(ACCESS_LOG.toString())
                .setLogFormat(SubstitutionFormatString.newBuilder().setTextFormatSource(DataSource.newBuilder()
                    .setInlineString("%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% route=%ROUTE_NAME% "
                        + "cluster=%UPSTREAM_CLUSTER% host=%UPSTREAM_HOST% %PROTOCOL%\n"))).build())))
        .build();
    return httpListener("http", hcm);
  }

  // ---- the clients ----

  /** Checks one response: a 200 from a backend, carrying the route version and the cluster. */
  private void record(String protocol, int status, String backend, String version, String cluster) {
    if (status != 200 || backend == null || version == null || cluster == null
        || backends.stream().noneMatch(b -> b.name.equals(backend))) {
      failures.add(protocol + ": status " + status + " backend " + backend + " route version " + version + " cluster " + cluster);
      return;
    }
    ok.incrementAndGet();
    int v = Integer.parseInt(version);
    routeVersionsSeen.add(v);
    highestRouteVersion.accumulateAndGet(v, Math::max);
    clustersSeen.add(cluster);
    backendsByCluster.computeIfAbsent(cluster, c -> ConcurrentHashMap.newKeySet()).add(backend);
  }

  private void http1Loop(HttpClient client, int port, CountDownLatch warm) {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/load"))
        .timeout(Duration.ofSeconds(10)).build();
    while (running.get()) {
      try {
        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
        record("http/1.1", r.statusCode(), r.headers().firstValue("x-backend").orElse(null),
            r.headers().firstValue("x-route-version").orElse(null), r.headers().firstValue("x-cluster").orElse(null));
      } catch (Exception e) {
        failures.add("http/1.1: " + e);
      }
      warm.countDown();
    }
  }

  private Channel http2Connection(int port) throws InterruptedException {
    Channel parent = new Bootstrap().group(clientGroup).channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                new Http2MultiplexHandler(new ChannelInitializer<>() {
                  @Override
                  protected void initChannel(Channel ch) {
                  }
                }));
          }
        })
        .connect(new InetSocketAddress("127.0.0.1", port)).sync().channel();
    closeables.add(() -> parent.close().syncUninterruptibly());
    return parent;
  }

  /** Requests one after another, each on a new stream of the shared HTTP/2 connection. */
  private void http2Loop(Channel connection, CountDownLatch warm) {
    while (running.get()) {
      try {
        CompletableFuture<FullHttpResponse> response = new CompletableFuture<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
            .handler(new ChannelInitializer<Http2StreamChannel>() {
              @Override
              protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), new HttpObjectAggregator(1 << 20),
                    new SimpleChannelInboundHandler<FullHttpResponse>() {
                      @Override
                      protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                        response.complete(r.retainedDuplicate());
                      }

                      @Override
                      public void channelInactive(ChannelHandlerContext ctx) {
                        response.completeExceptionally(new IllegalStateException("stream closed without a response"));
                      }
                    });
              }
            }).open().sync().getNow();
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/load");
        request.headers().set("host", "load.test").set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
        stream.writeAndFlush(request);
        FullHttpResponse r = response.get(10, TimeUnit.SECONDS);
        try {
          record("http/2", r.status().code(), r.headers().get("x-backend"), r.headers().get("x-route-version"),
              r.headers().get("x-cluster"));
        } finally {
          r.release();
        }
      } catch (Exception e) {
        failures.add("http/2: " + e);
      }
      warm.countDown();
    }
  }
}
