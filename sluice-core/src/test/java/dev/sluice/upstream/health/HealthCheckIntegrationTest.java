package dev.sluice.upstream.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.ProxyYaml;
import dev.sluice.testing.TestBackend;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Active health checking through a full in-process proxy ({@link TestServers}) against real
 * upstreams that fail on command: HTTP/1, HTTP/2, gRPC and TCP checks, thresholds, the panic
 * threshold, and what {@code /clusters} and the stats show.
 */
class HealthCheckIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }

  private FlakyBackend backend(String name) throws Exception {
    FlakyBackend b = new FlakyBackend(name);
    closeables.add(b);
    return b;
  }

  private Server start(String clusterExtra, String healthCheck, int... ports) {
    String endpoints = java.util.Arrays.stream(ports)
        .mapToObj(p -> "{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + p + "}}}}")
        .collect(Collectors.joining(", "));
    return startWithEndpoints(clusterExtra, healthCheck, endpoints);
  }

  /** As {@link #start}, with the {@code lb_endpoints} list written out. */
  private Server startWithEndpoints(String clusterExtra, String healthCheck, String endpoints) {
    String yaml = """
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
          - name: c
            type: STATIC
            connect_timeout: 1s
        %s
            health_checks:
        %s
            load_assignment:
              cluster_name: c
              endpoints: [{lb_endpoints: [%s]}]
          listeners:
        %s""".formatted(indent(clusterExtra, 4), indent(healthCheck, 4), endpoints, ProxyYaml.listener("l", "c"));
    Server server = TestServers.start(yaml);
    closeables.add(server);
    return server;
  }

  private static String indent(String text, int spaces) {
    String pad = " ".repeat(spaces);
    return text.lines().map(l -> pad + l).collect(Collectors.joining("\n"));
  }

  /**
   * A health check running every 50 ms whether or not the cluster has had traffic; a generous
   * timeout, as a first check on a loaded machine may wait for class loading.
   */
  private static String check(String kind, int unhealthy, int healthy) {
    return """
        - timeout: 5s
          interval: 0.05s
          no_traffic_interval: 0.05s
          unhealthy_threshold: %d
          healthy_threshold: %d
        %s""".formatted(unhealthy, healthy, indent(kind, 2));
  }

  private String admin(Server server, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private String flags(Server server, String address) throws Exception {
    String prefix = "c::" + address + "::health_flags::";
    return admin(server, "/clusters").lines().filter(l -> l.startsWith(prefix))
        .map(l -> l.substring(prefix.length())).findFirst().orElseThrow();
  }

  private void awaitFlags(Server server, String address, String expected) {
    await().atMost(WAIT).untilAsserted(() -> assertThat(flags(server, address)).isEqualTo(expected));
  }

  private HttpResponse<String> get(Server server, String path) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("l") + path))
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static long stat(Server server, String name) {
    return server.stats().counter(name).value();
  }

  @Test
  void aHostFailingHttpChecksStopsReceivingTrafficAndComesBackWhenHealthy() throws Exception {
    FlakyBackend a = backend("a");
    FlakyBackend b = backend("b");
    Server server = start("", check("""
        http_health_check:
          path: /healthz
          request_headers_to_add: [{header: {key: x-check, value: sluice}}]""", 2, 2), a.port(), b.port());
    // The server went LIVE after the first round of checks: both hosts are healthy already.
    assertThat(flags(server, a.address())).isEqualTo("healthy");
    assertThat(flags(server, b.address())).isEqualTo("healthy");
    assertThat(a.checkHeaders.peek()).isEqualTo("host=c user-agent=Envoy/HC x-check=sluice");

    a.healthStatus.set(503);
    awaitFlags(server, a.address(), "/failed_active_hc");
    int before = a.requests.get();
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> r = get(server, "/x");
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("b");
    }
    assertThat(a.requests.get()).isEqualTo(before);
    assertThat(server.stats().gauge("cluster.c.health_check.healthy").value()).isEqualTo(1);
    assertThat(admin(server, "/clusters?format=json")).contains("\"failed_active_health_check\": true");

    a.healthStatus.set(200);
    awaitFlags(server, a.address(), "healthy");
    await().atMost(WAIT).untilAsserted(() -> {
      get(server, "/x");
      assertThat(a.requests.get()).isGreaterThan(before);
    });
    assertThat(stat(server, "cluster.c.health_check.attempt")).isGreaterThanOrEqualTo(4);
    assertThat(stat(server, "cluster.c.health_check.success")).isGreaterThanOrEqualTo(3);
    assertThat(stat(server, "cluster.c.health_check.failure")).isGreaterThanOrEqualTo(1);
    assertThat(server.stats().gauge("cluster.c.health_check.healthy").value()).isEqualTo(2);
  }

  /**
   * Each check records the host's flags as it arrives (they hold every earlier result), so the
   * thresholds show exactly: retriable statuses need {@code unhealthy_threshold} in a row, any
   * other failure acts at once, and recovery needs {@code healthy_threshold} passes in a row.
   */
  @Test
  void thresholdsDecideWhenAHostChangesState() throws Exception {
    FlakyBackend a = backend("a");
    int[] script = {200, 503, 503, 200, 200, 503, 503, 503, 200, 200, 500, 200, 200};
    CountDownLatch adminKnown = new CountDownLatch(1);
    AtomicInteger adminPort = new AtomicInteger();
    List<String> seen = new CopyOnWriteArrayList<>();
    AtomicInteger next = new AtomicInteger();
    a.healthScript = () -> {
      int i = next.getAndIncrement();
      if (i > 0) {
        try {
          adminKnown.await(10, TimeUnit.SECONDS);
          String prefix = "c::" + a.address() + "::health_flags::";
          String clusters = client.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + adminPort.get() + "/clusters")).build(),
              HttpResponse.BodyHandlers.ofString()).body();
          seen.add(clusters.lines().filter(l -> l.startsWith(prefix))
              .map(l -> l.substring(prefix.length())).findFirst().orElse("?"));
        } catch (Exception e) {
          seen.add(e.toString());
        }
      }
      return i < script.length ? script[i] : 200;
    };
    Server server = start("", check("""
        http_health_check:
          path: /healthz
          retriable_statuses: [{start: 503, end: 504}]""", 3, 2)
        // A check waits for the admin port while the test thread starts: no timeout meanwhile.
        .replace("timeout: 5s", "timeout: 10s"), a.port());
    adminPort.set(server.adminPort());
    adminKnown.countDown();
    await().atMost(WAIT).until(() -> seen.size() >= script.length);
    String h = "healthy";
    String f = "/failed_active_hc";
    assertThat(seen.subList(0, script.length)).containsExactly(
        h, h, h, h, h, h, h, f, f, h, f, f, h);
  }

  @Test
  void whenEveryHostFailsTheBalancerPanicsAndUsesThemAllUnlessPanicIsOff() throws Exception {
    FlakyBackend a = backend("a");
    FlakyBackend b = backend("b");
    Server server = start("", check("http_health_check: {path: /healthz}", 1, 1), a.port(), b.port());
    a.healthStatus.set(500);
    b.healthStatus.set(500);
    awaitFlags(server, a.address(), "/failed_active_hc");
    awaitFlags(server, b.address(), "/failed_active_hc");
    assertThat(get(server, "/x").statusCode()).isEqualTo(200);
    assertThat(stat(server, "cluster.c.lb_healthy_panic")).isGreaterThanOrEqualTo(1);
    closeables.remove(server);
    server.close();

    Server noPanic = start("common_lb_config: {healthy_panic_threshold: {value: 0}}",
        check("http_health_check: {path: /healthz}", 1, 1), a.port(), b.port());
    // The first checks already failed: the cluster starts with no healthy host.
    assertThat(flags(noPanic, a.address())).isEqualTo("/failed_active_hc");
    HttpResponse<String> r = get(noPanic, "/x");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(stat(noPanic, "cluster.c.upstream_cx_none_healthy")).isEqualTo(1);
  }

  @Test
  void anImmediateFailFromTheDataPathFailsTheHostUntilChecksPassAgain() throws Exception {
    FlakyBackend a = backend("a");
    FlakyBackend b = backend("b");
    // Long intervals: only the passive failure can change anything within the test.
    Server server = start("", """
        - timeout: 5s
          interval: 60s
          unhealthy_threshold: 1
          healthy_threshold: 1
          http_health_check: {path: /healthz}""", a.port(), b.port());
    var cluster = (dev.sluice.upstream.ClusterImpl) clusterManagerCluster(server);
    var host = (dev.sluice.upstream.HostImpl) cluster.hostsByPriority().getFirst().stream()
        .filter(x -> x.addressString().equals(a.address())).findFirst().orElseThrow();
    host.healthCheckMonitor().setUnhealthy();
    awaitFlags(server, a.address(), "/failed_active_hc/excluded_via_immediate_hc_fail");
    assertThat(stat(server, "cluster.c.health_check.passive_failure")).isEqualTo(1);
    for (int i = 0; i < 4; i++) {
      assertThat(get(server, "/x").body()).isEqualTo("b");
    }
  }

  @Test
  void theRouterFailsAHostThatAnswersImmediateHealthCheckFail() throws Exception {
    FlakyBackend a = backend("a");
    FlakyBackend b = backend("b");
    a.immediateFail = true;
    Server server = start("", """
        - timeout: 5s
          interval: 60s
          unhealthy_threshold: 3
          healthy_threshold: 1
          http_health_check: {path: /healthz}""", a.port(), b.port());
    // Round robin: within two requests one reaches a, whose answer fails it at once.
    get(server, "/x");
    get(server, "/x");
    awaitFlags(server, a.address(), "/failed_active_hc/excluded_via_immediate_hc_fail");
    assertThat(stat(server, "cluster.c.health_check.passive_failure")).isEqualTo(1);
    for (int i = 0; i < 4; i++) {
      assertThat(get(server, "/x").body()).isEqualTo("b");
    }
  }

  @Test
  void anEndpointsHealthCheckConfigPicksThePortAndHostnameOrOptsOut() throws Exception {
    FlakyBackend a = backend("a");
    FlakyBackend checkPort = backend("check-port");
    FlakyBackend b = backend("b");
    checkPort.healthStatus.set(503);
    Server server = startWithEndpoints("", check("http_health_check: {path: /healthz, host: cluster-host}", 1, 1), """
        {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}},
          health_check_config: {port_value: %d, hostname: a.check}}},
        {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}},
          health_check_config: {disable_active_health_check: true}}}""".formatted(a.port(), checkPort.port(), b.port()));
    // a's checks go to the other port (which fails them) with the endpoint's hostname as Host.
    awaitFlags(server, a.address(), "/failed_active_hc");
    assertThat(a.checks.get()).isZero();
    assertThat(checkPort.checkHeaders.peek()).startsWith("host=a.check ");
    // b is never checked and stays healthy: all traffic goes to it.
    assertThat(flags(server, b.address())).isEqualTo("healthy");
    for (int i = 0; i < 3; i++) {
      assertThat(get(server, "/x").body()).isEqualTo("b");
    }
    assertThat(b.checks.get()).isZero();
    assertThat(stat(server, "cluster.c.health_check.attempt")).isPositive();
  }

  @Test
  void checksGoOverTheClustersTlsTransportSocket(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    FlakyBackend a = new FlakyBackend("a", tlsContext(dir));
    closeables.add(a);
    Server server = start("""
        transport_socket:
          name: envoy.transport_sockets.tls
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
            sni: backend.test""", check("http_health_check: {path: /healthz}", 1, 1), a.port());
    await().atMost(WAIT).until(() -> a.checks.get() >= 1);
    awaitFlags(server, a.address(), "healthy");
    assertThat(get(server, "/x").body()).isEqualTo("a");
    a.healthStatus.set(503);
    awaitFlags(server, a.address(), "/failed_active_hc");
  }

  /** A server TLS context with a fresh self-signed certificate for {@code backend.test}. */
  private static javax.net.ssl.SSLContext tlsContext(java.nio.file.Path dir) throws Exception {
    java.nio.file.Path cert = dir.resolve("backend.crt");
    java.nio.file.Path key = dir.resolve("backend.key");
    java.nio.file.Path store = dir.resolve("backend.p12");
    dev.sluice.testing.Openssl.run(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=backend.test", "-days", "2");
    dev.sluice.testing.Openssl.run(dir, "pkcs12", "-export", "-in", cert.toString(), "-inkey", key.toString(),
        "-out", store.toString(), "-passout", "pass:test");
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    try (var in = java.nio.file.Files.newInputStream(store)) {
      ks.load(in, "test".toCharArray());
    }
    var kmf = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "test".toCharArray());
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    return ctx;
  }

  /** The proxy's cluster, found through the admin-independent cluster manager of the server. */
  private static dev.sluice.api.upstream.Cluster clusterManagerCluster(Server server) throws Exception {
    var field = Server.class.getDeclaredField("clusterManager");
    field.setAccessible(true);
    return ((dev.sluice.upstream.ClusterManagerImpl) field.get(server)).get("c");
  }

  @Test
  void http2ChecksUseOneConnectionAndFailWhenTheHostGoesAway() throws Exception {
    TestBackend h2 = new TestBackend("h2");
    closeables.add(h2);
    FlakyBackend other = backend("other");
    Server server = start("", check("""
        http_health_check: {path: /status/200, codec_client_type: HTTP2}""", 1, 1), h2.port(), other.port());
    String address = "127.0.0.1:" + h2.port();
    assertThat(flags(server, address)).isEqualTo("healthy");
    await().atMost(WAIT).until(() -> h2.requests.get() >= 3);
    // reuse_connection (the default): every check on one HTTP/2 connection.
    assertThat(h2.connections.get()).isEqualTo(1);
    closeables.remove(h2);
    h2.close();
    awaitFlags(server, address, "/failed_active_hc");
    assertThat(stat(server, "cluster.c.health_check.network_failure")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void http2ChecksJudgeTheStatus() throws Exception {
    TestBackend h2 = new TestBackend("h2");
    closeables.add(h2);
    Server server = start("", check("""
        http_health_check:
          path: /status/404
          codec_client_type: HTTP2
          expected_statuses: [{start: 200, end: 300}]""", 1, 1), h2.port());
    assertThat(flags(server, "127.0.0.1:" + h2.port())).isEqualTo("/failed_active_hc");
  }

  @Test
  void grpcChecksFollowTheServingStatus() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    health.setStatus("sluice.test", ServingStatus.SERVING);
    io.grpc.Server grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(health.getHealthService()).build().start();
    closeables.add(() -> grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    FlakyBackend other = backend("other");
    Server server = start("", check("""
        grpc_health_check: {service_name: sluice.test}""", 1, 1), grpc.getPort(), other.port());
    String address = "127.0.0.1:" + grpc.getPort();
    assertThat(flags(server, address)).isEqualTo("healthy");
    health.setStatus("sluice.test", ServingStatus.NOT_SERVING);
    awaitFlags(server, address, "/failed_active_hc");
    health.setStatus("sluice.test", ServingStatus.SERVING);
    awaitFlags(server, address, "healthy");
    // An unknown service is NOT_FOUND: a failure.
    health.clearStatus("sluice.test");
    awaitFlags(server, address, "/failed_active_hc");
  }

  @Test
  void tcpChecksSendAndMatchPayloads() throws Exception {
    FlakyBackend a = backend("a");
    FlakyBackend b = backend("b");
    // A raw HTTP request as the payload; the check passes when "200" follows "HTTP/1.1". The
    // server closes after answering, so a reply that does not match fails as a network failure.
    String send = hex("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    Server server = start("", check("""
        tcp_health_check:
          send: {text: "%s"}
          receive: [{text: "%s"}, {text: "%s"}]""".formatted(send, hex("HTTP/1.1"), hex(" 200 ")), 1, 1),
        a.port(), b.port());
    assertThat(flags(server, a.address())).isEqualTo("healthy");
    a.healthStatus.set(503);
    awaitFlags(server, a.address(), "/failed_active_hc");
    for (int i = 0; i < 4; i++) {
      assertThat(get(server, "/x").body()).isEqualTo("b");
    }
    a.healthStatus.set(200);
    awaitFlags(server, a.address(), "healthy");
  }

  @Test
  void tcpConnectOnlyChecksFailWhenNothingListens() throws Exception {
    FlakyBackend a = backend("a");
    int dead;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      dead = s.getLocalPort();
    }
    Server server = start("", check("tcp_health_check: {}", 2, 1), a.port(), dead);
    assertThat(flags(server, a.address())).isEqualTo("healthy");
    assertThat(flags(server, "127.0.0.1:" + dead)).isEqualTo("/failed_active_hc");
    assertThat(admin(server, "/stats")).contains("cluster.c.health_check.network_failure: ");
    Map<String, Integer> bodies = new ConcurrentHashMap<>();
    for (int i = 0; i < 4; i++) {
      bodies.merge(get(server, "/x").body(), 1, Integer::sum);
    }
    assertThat(bodies).containsOnlyKeys("a");
  }

  @Test
  void aCheckThatGetsNoAnswerTimesOut() throws Exception {
    // The kernel accepts the connection into the backlog; nobody ever answers.
    ServerSocket silent = new ServerSocket(0, 10, java.net.InetAddress.getLoopbackAddress());
    closeables.add(silent);
    Server server = start("", """
        - timeout: 0.2s
          interval: 0.05s
          no_traffic_interval: 0.05s
          unhealthy_threshold: 1
          healthy_threshold: 1
          http_health_check: {path: /healthz}""", silent.getLocalPort());
    assertThat(flags(server, "127.0.0.1:" + silent.getLocalPort())).isEqualTo("/failed_active_hc/active_hc_timeout");
    assertThat(admin(server, "/clusters?format=json")).contains("\"active_hc_timeout\": true");
    assertThat(stat(server, "cluster.c.health_check.network_failure")).isGreaterThanOrEqualTo(1);
  }

  private static String hex(String s) {
    return java.util.HexFormat.of().formatHex(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }
}
