package dev.sluice.it.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every load-balancing policy through a full server (one worker, so the per-worker balancers see
 * every request) to four real backends, plus failure of a stopped host and priority spill-over.
 */
class LoadBalancingTest {
  static final List<TestBackend> backends = new ArrayList<>();
  /** Stopped by {@link #aStoppedHostFailsItsRequestsWithConnectFailures}. */
  static SocketBackend doomed;
  static SocketBackend slow;
  static Server server;
  static RawHttp client;

  @BeforeAll
  static void start() throws Exception {
    for (String name : List.of("b0", "b1", "b2", "b3")) {
      backends.add(new TestBackend(name));
    }
    doomed = new SocketBackend("doomed", Duration.ZERO);
    slow = new SocketBackend("slow", Duration.ofMillis(200));
    TestBackend[] four = backends.toArray(TestBackend[]::new);
    int[] ports = backends.stream().mapToInt(TestBackend::port).toArray();
    List<String> clusters = List.of(
        ProxyConfig.staticCluster("rr", "ROUND_ROBIN", four),
        weightedCluster("rr-weighted", ports),
        ProxyConfig.staticCluster("random", "RANDOM", four),
        ProxyConfig.staticCluster("least", "LEAST_REQUEST", "", ports[0], ports[1], ports[2], ports[3], slow.port()),
        ProxyConfig.staticCluster("ring", "RING_HASH", "ring_hash_lb_config: {minimum_ring_size: 1024}\n", ports),
        ProxyConfig.staticCluster("maglev", "MAGLEV", four),
        ProxyConfig.staticCluster("failover", "ROUND_ROBIN", "", ports[0], ports[1], doomed.port()),
        priorityCluster("spill", "UNHEALTHY", ports),
        priorityCluster("partial", "HEALTHY", ports));
    String hcm = """
        route_config:
          name: lb
          virtual_hosts:
          - name: lb
            domains: ["*"]
            routes:
            - {match: {prefix: /ring-ip}, route: {cluster: ring, hash_policy: [{connection_properties: {source_ip: true}}]}}
            - {match: {prefix: /ring}, route: {cluster: ring, hash_policy: [{header: {header_name: x-user}}]}}
            - {match: {prefix: /maglev}, route: {cluster: maglev, hash_policy: [{header: {header_name: x-user}}]}}
            - {match: {prefix: /rr-weighted}, route: {cluster: rr-weighted}}
            - {match: {prefix: /rr}, route: {cluster: rr}}
            - {match: {prefix: /random}, route: {cluster: random}}
            - {match: {prefix: /least}, route: {cluster: least}}
            - {match: {prefix: /failover}, route: {cluster: failover}}
            - {match: {prefix: /spill}, route: {cluster: spill}}
            - {match: {prefix: /partial}, route: {cluster: partial}}
        """;
    server = TestServers.start(ProxyConfig.bootstrap(clusters, List.of(ProxyConfig.httpListener("lb", "lb", hcm))));
    client = new RawHttp(server.listenerPort("lb"));
  }

  /** Weights 1, 2, 3, 4 on b0..b3. */
  static String weightedCluster(String name, int[] ports) {
    StringBuilder eps = new StringBuilder();
    for (int i = 0; i < ports.length; i++) {
      eps.append("      - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}, load_balancing_weight: %d}\n"
          .formatted(ports[i], i + 1));
    }
    return """
        - name: %s
          type: STATIC
          connect_timeout: 1s
          load_assignment:
            cluster_name: %s
            endpoints:
            - lb_endpoints:
        """.formatted(name, name) + eps;
  }

  /** Priority 0: b0 (with {@code b0Health}) and b1 UNHEALTHY; priority 1: b2 and b3, healthy. */
  static String priorityCluster(String name, String b0Health, int[] ports) {
    return """
        - name: %1$s
          type: STATIC
          connect_timeout: 1s
          load_assignment:
            cluster_name: %1$s
            endpoints:
            - priority: 0
              lb_endpoints:
              - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %3$d}}}, health_status: %2$s}
              - {endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %4$d}}}, health_status: UNHEALTHY}
            - priority: 1
              lb_endpoints:
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %5$d}}}
              - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %6$d}}}
        """.formatted(name, b0Health, ports[0], ports[1], ports[2], ports[3]);
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    server.close();
    backends.forEach(TestBackend::close);
    slow.close();
    doomed.close();
  }

  static Map<String, Integer> spread(String path, int n, String... headers) throws Exception {
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < n; i++) {
      RawHttp.Response r = client.get("lb", path, headers);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      seen.merge(r.backend(), 1, Integer::sum);
    }
    return seen;
  }

  @Test
  void roundRobinSpreadsEvenly() throws Exception {
    assertThat(spread("/rr", 400)).containsOnlyKeys("b0", "b1", "b2", "b3").allSatisfy((b, n) -> assertThat(n).isEqualTo(100));
  }

  @Test
  void roundRobinHonoursEndpointWeights() throws Exception {
    Map<String, Integer> seen = spread("/rr-weighted", 1000);
    for (int i = 0; i < 4; i++) {
      assertThat(seen.get("b" + i)).as("b%d with weight %d", i, i + 1).isBetween(100 * (i + 1) - 2, 100 * (i + 1) + 2);
    }
  }

  @Test
  void randomSpreadsWithinBounds() throws Exception {
    int n = 1000;
    Map<String, Integer> seen = spread("/random", n);
    assertThat(seen).containsOnlyKeys("b0", "b1", "b2", "b3");
    seen.forEach((b, count) -> Statistics.assertBinomial(b, count, n, 0.25));
  }

  @Test
  void leastRequestAvoidsTheSlowHostUnderConcurrency() throws Exception {
    int threads = 8;
    int perThread = 30;
    Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          try (RawHttp c = new RawHttp(server.listenerPort("lb"))) {
            for (int i = 0; i < perThread; i++) {
              RawHttp.Response r = c.get("lb", "/least");
              assertThat(r.status()).isEqualTo(200);
              seen.computeIfAbsent(r.backend(), k -> new AtomicInteger()).incrementAndGet();
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    }
    int total = threads * perThread;
    int slowCount = seen.getOrDefault("slow", new AtomicInteger()).get();
    // Round robin would give the slow host a fifth (48); two random choices with the least active
    // requests leave it only the picks where both choices were the busy slow host (1/25) plus the
    // moments it was idle.
    assertThat(slowCount).as("slow host's share of %d: %s", total, seen).isLessThan(total / 10);
    for (int i = 0; i < 4; i++) {
      assertThat(seen.get("b" + i).get()).as("b%d", i).isGreaterThan(slowCount);
    }
  }

  @Test
  void ringHashAndMaglevKeepAHeaderValueOnOneHost() throws Exception {
    for (String path : List.of("/ring", "/maglev")) {
      Map<String, Integer> perHost = new HashMap<>();
      for (int user = 0; user < 100; user++) {
        Map<String, Integer> seen = spread(path, 3, "x-user: user-" + user);
        assertThat(seen).as("%s user-%d", path, user).hasSize(1);
        perHost.merge(seen.keySet().iterator().next(), 1, Integer::sum);
      }
      // 100 values over 4 hosts: each host gets some (a host left out: probability ~1e-12).
      assertThat(perHost).as(path).containsOnlyKeys("b0", "b1", "b2", "b3");
      Map<String, Integer> noHeader = spread(path, 40);
      assertThat(noHeader.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(40);
    }
  }

  @Test
  void ringHashOnSourceIpKeepsAClientOnOneHost() throws Exception {
    Set<String> hosts = new HashSet<>();
    int port = server.listenerPort("lb");
    for (int i = 1; i <= 30; i++) {
      InetAddress source = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (i + 10)});
      Set<String> forThisIp = new HashSet<>();
      for (int j = 0; j < 3; j++) {
        // A new connection each time: the hash is the source address, not the connection.
        try (RawHttp c = new RawHttp(port, source)) {
          RawHttp.Response r = c.get("lb", "/ring-ip");
          assertThat(r.status()).isEqualTo(200);
          forThisIp.add(r.backend());
        }
      }
      assertThat(forThisIp).as("source %s", source).hasSize(1);
      hosts.addAll(forThisIp);
    }
    // 30 sources on at most two of four hosts: probability 6 * 2^-30.
    assertThat(hosts).hasSizeGreaterThanOrEqualTo(3);
  }

  @Test
  void aStoppedHostFailsItsRequestsWithConnectFailures() throws Exception {
    assertThat(spread("/failover", 6)).containsOnlyKeys("b0", "b1", "doomed");
    long failsBefore = Admin.stat(server, "cluster.failover.upstream_cx_connect_fail");
    doomed.close();
    // The pooled connection to the stopped host closes: wait until the proxy has seen it.
    await().atMost(Duration.ofSeconds(10)).until(() -> Admin.stat(server, "cluster.failover.upstream_cx_active") == 2);
    int failed = 0;
    for (int i = 0; i < 30; i++) {
      RawHttp.Response r = client.get("lb", "/failover");
      if (r.status() == 503) {
        failed++;
        assertThat(r.body()).startsWith("upstream connect error or disconnect/reset before headers");
      } else {
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.backend()).isIn("b0", "b1");
      }
    }
    // Round robin over three hosts: every third request goes to the stopped one, and fails.
    assertThat(failed).isEqualTo(10);
    int expectedFails = failed;
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(Admin.stat(server, "cluster.failover.upstream_cx_connect_fail") - failsBefore).isEqualTo(expectedFails));
  }

  @Test
  void unhealthyPriorityZeroSpillsToPriorityOne() throws Exception {
    Map<String, Integer> seen = spread("/spill", 200);
    assertThat(seen).containsOnlyKeys("b2", "b3");
    assertThat(Admin.stat(server, "cluster.spill.membership_healthy")).isEqualTo(2);
    assertThat(Admin.stat(server, "cluster.spill.membership_total")).isEqualTo(4);
  }

  @Test
  void halfHealthyPriorityZeroKeepsSeventyPercent() throws Exception {
    // Priority 0 is 50% healthy; with the overprovisioning factor 1.4 it takes 70% of the load.
    int n = 1000;
    Map<String, Integer> seen = spread("/partial", n);
    assertThat(seen).containsOnlyKeys("b0", "b2", "b3");
    Statistics.assertBinomial("priority 0", seen.get("b0"), n, 0.7);
  }
}
