package dev.sluice.it.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The route configurations istiod generates (RDS "9080", one virtual host per service, subset
 * clusters {@code outbound|9080|<subset>|<fqdn>}) for Bookinfo's VirtualServices in
 * /work/shared/istio/bookinfo/networking, each on its own listener, served to real backends.
 */
class BookinfoRoutesTest {
  static final String FQDN = ".default.svc.cluster.local";
  static final int N = 2000;
  static final List<String> SERVICES = List.of("productpage", "reviews", "ratings", "details");
  static final List<TestBackend> backends = new ArrayList<>();
  static Server server;

  @BeforeAll
  static void start() throws Exception {
    List<String> clusters = new ArrayList<>();
    for (String svc : SERVICES) {
      List<String> versions = svc.equals("reviews") ? List.of("v1", "v2", "v3") : List.of("v1");
      List<TestBackend> all = new ArrayList<>();
      for (String v : versions) {
        TestBackend b = new TestBackend(svc + "-" + v);
        backends.add(b);
        all.add(b);
        clusters.add(ProxyConfig.staticCluster(cluster(v, svc), "ROUND_ROBIN", b));
      }
      clusters.add(ProxyConfig.staticCluster(cluster("", svc), "ROUND_ROBIN", all.toArray(TestBackend[]::new)));
    }
    Map<String, String> reviews = new TreeMap<>();
    // virtual-service-reviews-test-v2.yaml: end-user: jason -> v2, everyone else v1.
    reviews.put("test-v2", route("""
        match: {prefix: /, case_sensitive: true, headers: [{name: end-user, string_match: {exact: jason}}]}
        route:
          cluster: "%s"
        """.formatted(cluster("v2", "reviews")))
        + route("""
        match: {prefix: /}
        route:
          cluster: "%s"
        """.formatted(cluster("v1", "reviews"))));
    // virtual-service-reviews-50-v3.yaml and -80-20.yaml.
    reviews.put("50-v3", route(weighted("v1", 50, "v3", 50)));
    reviews.put("80-20", route(weighted("v1", 80, "v2", 20)));
    // virtual-service-all-v1.yaml: every service to its v1 subset.
    reviews.put("all-v1", route("""
        match: {prefix: /}
        route:
          cluster: "%s"
        """.formatted(cluster("v1", "reviews"))));
    List<String> listeners = new ArrayList<>();
    for (Map.Entry<String, String> e : reviews.entrySet()) {
      StringBuilder vhosts = new StringBuilder();
      for (String svc : SERVICES) {
        String routes = svc.equals("reviews") ? e.getValue()
            : route("match: {prefix: /}\nroute:\n  cluster: \"" + cluster(e.getKey().equals("all-v1") ? "v1" : "", svc) + "\"\n");
        vhosts.append(vhost(svc, routes));
      }
      vhosts.append("""
          - name: allow_any
            domains: ["*"]
            routes:
            - name: allow_any
              match: {prefix: /}
              direct_response: {status: 502, body: {inline_string: "no such service"}}
          """);
      listeners.add(ProxyConfig.httpListener(e.getKey(), "outbound_0.0.0.0_9080", """
          route_config:
            name: "9080"
            validate_clusters: false
            virtual_hosts:
          """ + ProxyConfig.indent(vhosts.toString(), 2)));
    }
    server = TestServers.start(ProxyConfig.bootstrap(clusters, listeners));
  }

  static String cluster(String subset, String svc) {
    return "outbound|9080|" + subset + "|" + svc + FQDN;
  }

  /** Istio's virtual host for a service: every short and long name, with and without the port. */
  static String vhost(String svc, String routes) {
    String ip = "10.96.0." + (10 + SERVICES.indexOf(svc));
    return """
        - name: "%1$s%2$s:9080"
          domains: ["%1$s%2$s", "%1$s%2$s:9080", "%1$s", "%1$s:9080", "%1$s.default.svc", "%1$s.default.svc:9080", "%1$s.default", "%1$s.default:9080", "%3$s", "%3$s:9080"]
          routes:
        """.formatted(svc, FQDN, ip) + ProxyConfig.indent(routes, 2);
  }

  /** A route as istiod writes it: retry policy, no timeout, decorator and metadata. */
  static String route(String matchAndAction) {
    String body = matchAndAction
        + "decorator: {operation: \"reviews.default.svc.cluster.local:9080/*\"}\n"
        + "metadata: {filter_metadata: {istio: {config: /apis/networking.istio.io/v1alpha3/namespaces/default/virtual-service/reviews}}}\n";
    return "- " + ProxyConfig.indent(body, 2).substring(2);
  }

  static String weighted(String first, int w1, String second, int w2) {
    return """
        match: {prefix: /}
        route:
          weighted_clusters:
            clusters:
            - {name: "%s", weight: %d}
            - {name: "%s", weight: %d}
          timeout: 0s
          retry_policy:
            retry_on: connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes
            num_retries: 2
            retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]
            host_selection_retry_max_attempts: "5"
            retriable_status_codes: [503]
          max_grpc_timeout: 0s
        """.formatted(cluster(first, "reviews"), w1, cluster(second, "reviews"), w2);
  }

  @AfterAll
  static void stop() {
    server.close();
    backends.forEach(TestBackend::close);
  }

  /** Sends {@code n} requests to the listener of one VirtualService; counts by backend name. */
  static Map<String, Integer> spread(String listener, String host, int n, String... headers) throws Exception {
    Map<String, Integer> seen = new TreeMap<>();
    try (RawHttp c = new RawHttp(server.listenerPort(listener))) {
      for (int i = 0; i < n; i++) {
        RawHttp.Response r = c.get(host, "/reviews/0", headers);
        assertThat(r.status()).isEqualTo(200);
        seen.merge(r.backend(), 1, Integer::sum);
      }
    }
    return seen;
  }

  @Test
  void testV2SendsJasonToV2AndEveryoneElseToV1() throws Exception {
    assertThat(spread("test-v2", "reviews:9080", 20, "end-user: jason")).containsExactly(Map.entry("reviews-v2", 20));
    assertThat(spread("test-v2", "reviews", 20)).containsExactly(Map.entry("reviews-v1", 20));
    assertThat(spread("test-v2", "reviews", 10, "end-user: Jason")).as("exact is case sensitive")
        .containsExactly(Map.entry("reviews-v1", 10));
    assertThat(spread("test-v2", "reviews.default.svc.cluster.local:9080", 10, "end-user: jason"))
        .containsExactly(Map.entry("reviews-v2", 10));
  }

  @Test
  void fiftyFiftyV1V3ConvergesToItsWeights() throws Exception {
    long before = Admin.stat(server, "cluster." + cluster("v3", "reviews") + ".upstream_rq_200");
    Map<String, Integer> seen = spread("50-v3", "reviews:9080", N);
    assertThat(seen.keySet()).containsExactlyInAnyOrder("reviews-v1", "reviews-v3");
    Statistics.assertBinomial("reviews-v1 of 50/50", seen.get("reviews-v1"), N, 0.5);
    // Envoy's stat name keeps the cluster name as it is, pipes included.
    long expected = Math.max(before, 0) + seen.get("reviews-v3");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(Admin.stat(server, "cluster." + cluster("v3", "reviews") + ".upstream_rq_200")).isEqualTo(expected));
  }

  @Test
  void eightyTwentyV1V2ConvergesToItsWeights() throws Exception {
    Map<String, Integer> seen = spread("80-20", "reviews", N);
    assertThat(seen.keySet()).containsExactlyInAnyOrder("reviews-v1", "reviews-v2");
    Statistics.assertBinomial("reviews-v1 of 80/20", seen.get("reviews-v1"), N, 0.8);
  }

  @Test
  void allV1SendsEveryServiceToItsV1() throws Exception {
    for (String svc : SERVICES) {
      for (String host : List.of(svc, svc + ":9080", svc + FQDN, "10.96.0." + (10 + SERVICES.indexOf(svc)) + ":9080")) {
        assertThat(spread("all-v1", host, 5)).as(host).containsExactly(Map.entry(svc + "-v1", 5));
      }
    }
    try (RawHttp c = new RawHttp(server.listenerPort("all-v1"))) {
      RawHttp.Response unknown = c.get("unknown:9080", "/");
      assertThat(unknown.status()).isEqualTo(502);
      assertThat(unknown.body()).isEqualTo("no such service");
    }
  }

  @Test
  void servicesWithoutAVirtualServiceUseTheirServiceCluster() throws Exception {
    // Without a VirtualService for a service, istiod routes to outbound|9080||<fqdn>.
    Map<String, Integer> seen = spread("50-v3", "ratings", 3);
    assertThat(seen).containsExactly(Map.entry("ratings-v1", 3));
    Map<String, Integer> all = spread("test-v2", "details:9080", 3);
    assertThat(all).containsExactly(Map.entry("details-v1", 3));
  }
}
