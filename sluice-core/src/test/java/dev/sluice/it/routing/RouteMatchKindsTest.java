package dev.sluice.it.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every kind of route match and virtual host domain, through a full server to real backends.
 * Each route names itself in an {@code x-route} response header, and goes to one of two backends.
 */
class RouteMatchKindsTest {
  static TestBackend a;
  static TestBackend b;
  static Server server;
  static RawHttp match;
  static RawHttp vhosts;

  @BeforeAll
  static void start() throws Exception {
    a = new TestBackend("a");
    b = new TestBackend("b");
    String routes = """
        route_config:
          name: kinds
          virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
        """ + ProxyConfig.indent(String.join("", List.of(
        route("path", "{path: /exact}", "b"),
        route("regex", "{safe_regex: {regex: \"/re/[0-9]+\"}}", "b"),
        route("separated", "{path_separated_prefix: /sep}", "b"),
        route("case", "{prefix: /CaSe, case_sensitive: false}", "b"),
        route("sensitive", "{prefix: /Sens}", "b"),
        route("h-exact", "{prefix: /hdr, headers: [{name: x-exact, string_match: {exact: v1}}]}", "b"),
        route("h-prefix", "{prefix: /hdr, headers: [{name: x-prefix, string_match: {prefix: pre}}]}", "b"),
        route("h-suffix", "{prefix: /hdr, headers: [{name: x-suffix, string_match: {suffix: fix}}]}", "b"),
        route("h-contains", "{prefix: /hdr, headers: [{name: x-contains, string_match: {contains: mid}}]}", "b"),
        route("h-regex", "{prefix: /hdr, headers: [{name: x-regex, string_match: {safe_regex: {regex: \"v[0-9]+\"}}}]}", "b"),
        route("h-ignore-case", "{prefix: /hdr, headers: [{name: x-icase, string_match: {exact: AbC, ignore_case: true}}]}", "b"),
        route("h-present", "{prefix: /hdr, headers: [{name: x-present, present_match: true}]}", "b"),
        route("h-invert", "{prefix: /hdr, headers: [{name: x-invert, string_match: {exact: \"no\"}, invert_match: true}]}", "b"),
        route("h-range", "{prefix: /hdr, headers: [{name: x-range, range_match: {start: 10, end: 20}}]}", "b"),
        route("h-all", "{prefix: /hdr, headers: [{name: x-one, present_match: true}, {name: x-two, string_match: {exact: \"2\"}}]}", "b"),
        route("q-exact", "{prefix: /q, query_parameters: [{name: debug, string_match: {exact: \"1\"}}]}", "b"),
        route("q-present", "{prefix: /q, query_parameters: [{name: trace, present_match: true}]}", "b"),
        route("q-regex", "{prefix: /q, query_parameters: [{name: id, string_match: {safe_regex: {regex: \"[a-f]+\"}}}]}", "b"),
        route("grpc", "{prefix: /pkg.Service/, grpc: {}}", "b"),
        route("rt-0", "{prefix: /rt, runtime_fraction: {default_value: {numerator: 0}, runtime_key: routing.test.zero}}", "b"),
        route("rt-100", "{prefix: /rt, runtime_fraction: {default_value: {numerator: 100}, runtime_key: routing.test.all}}", "b"),
        route("default", "{prefix: /}", "a"))), 4);
    String domains = """
        route_config:
          name: domains
          virtual_hosts:
          - name: reviews
            domains: [reviews, "reviews:9080", reviews.default.svc.cluster.local, "reviews.default.svc.cluster.local:9080"]
            routes: [{match: {prefix: /}, route: {cluster: b}, response_headers_to_add: [{header: {key: x-vhost, value: reviews}}]}]
          - name: exact-wins
            domains: [exact.example.com]
            routes: [{match: {prefix: /}, route: {cluster: b}, response_headers_to_add: [{header: {key: x-vhost, value: exact}}]}]
          - name: suffix
            domains: ["*.example.com"]
            routes: [{match: {prefix: /}, route: {cluster: b}, response_headers_to_add: [{header: {key: x-vhost, value: suffix}}]}]
          - name: longer-suffix
            domains: ["*.deep.example.com"]
            routes: [{match: {prefix: /}, route: {cluster: b}, response_headers_to_add: [{header: {key: x-vhost, value: longer-suffix}}]}]
          - name: prefix
            domains: ["foo.*"]
            routes: [{match: {prefix: /}, route: {cluster: b}, response_headers_to_add: [{header: {key: x-vhost, value: prefix}}]}]
          - name: catch-all
            domains: ["*"]
            routes: [{match: {prefix: /}, route: {cluster: a}, response_headers_to_add: [{header: {key: x-vhost, value: default}}]}]
        """;
    server = TestServers.start(ProxyConfig.bootstrap(
        List.of(ProxyConfig.staticCluster("a", "ROUND_ROBIN", a), ProxyConfig.staticCluster("b", "ROUND_ROBIN", b)),
        List.of(ProxyConfig.httpListener("match", "match", routes),
            ProxyConfig.httpListener("vhosts", "vhosts", domains))));
    match = new RawHttp(server.listenerPort("match"));
    vhosts = new RawHttp(server.listenerPort("vhosts"));
  }

  private static String route(String name, String match, String cluster) {
    return "- name: " + name + "\n  match: " + match + "\n  route: {cluster: " + cluster + "}\n"
        + "  response_headers_to_add: [{header: {key: x-route, value: " + name + "}}]\n";
  }

  @AfterAll
  static void stop() {
    match.close();
    vhosts.close();
    server.close();
    a.close();
    b.close();
  }

  private static String routeOf(String path, String... headers) throws Exception {
    RawHttp.Response r = match.get("test", path, headers);
    assertThat(r.status()).as("status of %s", path).isEqualTo(200);
    assertThat(r.backend()).isEqualTo(r.header("x-route").equals("default") ? "a" : "b");
    return r.header("x-route");
  }

  @Test
  void pathMatchesTheWholePathOnly() throws Exception {
    assertThat(routeOf("/exact")).isEqualTo("path");
    assertThat(routeOf("/exact?x=1")).isEqualTo("path");
    assertThat(routeOf("/exact/more")).isEqualTo("default");
    assertThat(routeOf("/exactly")).isEqualTo("default");
  }

  @Test
  void safeRegexMatchesTheWholePathWithoutQuery() throws Exception {
    assertThat(routeOf("/re/123")).isEqualTo("regex");
    assertThat(routeOf("/re/123?q=abc")).isEqualTo("regex");
    assertThat(routeOf("/re/12a")).isEqualTo("default");
    assertThat(routeOf("/x/re/1")).isEqualTo("default");
  }

  @Test
  void pathSeparatedPrefixStopsAtSegmentBoundaries() throws Exception {
    assertThat(routeOf("/sep")).isEqualTo("separated");
    assertThat(routeOf("/sep/")).isEqualTo("separated");
    assertThat(routeOf("/sep/deeper")).isEqualTo("separated");
    assertThat(routeOf("/sep?q=1")).isEqualTo("separated");
    assertThat(routeOf("/sepx")).isEqualTo("default");
  }

  @Test
  void caseSensitivityFollowsTheRoute() throws Exception {
    assertThat(routeOf("/case/x")).isEqualTo("case");
    assertThat(routeOf("/CASE")).isEqualTo("case");
    assertThat(routeOf("/Sens/x")).isEqualTo("sensitive");
    assertThat(routeOf("/sens/x")).isEqualTo("default");
  }

  @Test
  void headerMatchKinds() throws Exception {
    assertThat(routeOf("/hdr", "x-exact: v1")).isEqualTo("h-exact");
    assertThat(routeOf("/hdr", "x-exact: v10")).isEqualTo("default");
    assertThat(routeOf("/hdr", "x-prefix: prefixed")).isEqualTo("h-prefix");
    assertThat(routeOf("/hdr", "x-prefix: xpre")).isEqualTo("default");
    assertThat(routeOf("/hdr", "x-suffix: suffix")).isEqualTo("h-suffix");
    assertThat(routeOf("/hdr", "x-suffix: fixed")).isEqualTo("default");
    assertThat(routeOf("/hdr", "x-contains: amidst")).isEqualTo("h-contains");
    assertThat(routeOf("/hdr", "x-contains: mi-d")).isEqualTo("default");
    assertThat(routeOf("/hdr", "x-regex: v42")).isEqualTo("h-regex");
    assertThat(routeOf("/hdr", "x-regex: v42x")).as("regex matches the whole value").isEqualTo("default");
    assertThat(routeOf("/hdr", "x-icase: aBc")).isEqualTo("h-ignore-case");
    assertThat(routeOf("/hdr", "x-present: ")).as("present with an empty value").isEqualTo("h-present");
    assertThat(routeOf("/hdr", "x-invert: yes")).isEqualTo("h-invert");
    assertThat(routeOf("/hdr", "x-invert: no")).isEqualTo("default");
    assertThat(routeOf("/hdr")).as("an absent header does not match even inverted").isEqualTo("default");
    assertThat(routeOf("/hdr", "x-range: 10")).isEqualTo("h-range");
    assertThat(routeOf("/hdr", "x-range: 19")).isEqualTo("h-range");
    assertThat(routeOf("/hdr", "x-range: 20")).as("end is exclusive").isEqualTo("default");
    assertThat(routeOf("/hdr", "x-range: 9")).isEqualTo("default");
    assertThat(routeOf("/hdr", "x-range: 1x")).isEqualTo("default");
    assertThat(routeOf("/hdr", "x-one: 1", "x-two: 2")).as("all headers must match").isEqualTo("h-all");
    assertThat(routeOf("/hdr", "x-two: 2")).isEqualTo("default");
  }

  @Test
  void queryParameterMatchKinds() throws Exception {
    assertThat(routeOf("/q?debug=1")).isEqualTo("q-exact");
    assertThat(routeOf("/q?a=b&debug=1")).isEqualTo("q-exact");
    assertThat(routeOf("/q?debug=10")).isEqualTo("default");
    assertThat(routeOf("/q?trace")).isEqualTo("q-present");
    assertThat(routeOf("/q?trace=")).isEqualTo("q-present");
    assertThat(routeOf("/q?id=cafe")).isEqualTo("q-regex");
    assertThat(routeOf("/q?id=cafes")).isEqualTo("default");
    assertThat(routeOf("/q")).isEqualTo("default");
  }

  @Test
  void grpcMatchesOnlyGrpcContentTypes() throws Exception {
    assertThat(routeOf("/pkg.Service/Method", "content-type: application/grpc")).isEqualTo("grpc");
    assertThat(routeOf("/pkg.Service/Method", "content-type: application/grpc+proto")).isEqualTo("grpc");
    assertThat(routeOf("/pkg.Service/Method", "content-type: application/json")).isEqualTo("default");
    assertThat(routeOf("/pkg.Service/Method")).isEqualTo("default");
  }

  @Test
  void runtimeFractionZeroNeverMatchesAndHundredAlwaysDoes() throws Exception {
    for (int i = 0; i < 50; i++) {
      assertThat(routeOf("/rt/" + i)).isEqualTo("rt-100");
    }
  }

  private static String vhostOf(String host) throws Exception {
    RawHttp.Response r = vhosts.get(host, "/");
    assertThat(r.status()).as("status for host %s", host).isEqualTo(200);
    return r.header("x-vhost");
  }

  @Test
  void virtualHostDomainsExactWildcardsAndPorts() throws Exception {
    // Istio's service domains, with and without the port.
    assertThat(vhostOf("reviews")).isEqualTo("reviews");
    assertThat(vhostOf("reviews:9080")).isEqualTo("reviews");
    assertThat(vhostOf("reviews.default.svc.cluster.local:9080")).isEqualTo("reviews");
    assertThat(vhostOf("REVIEWS")).as("host matching ignores case").isEqualTo("reviews");
    assertThat(vhostOf("reviews:9081")).as("a port not listed is not stripped").isEqualTo("default");
    // Exact beats suffix wildcards; the longest suffix wins.
    assertThat(vhostOf("exact.example.com")).isEqualTo("exact");
    assertThat(vhostOf("api.example.com")).isEqualTo("suffix");
    assertThat(vhostOf("a.deep.example.com")).isEqualTo("longer-suffix");
    assertThat(vhostOf("example.com")).as("*.example.com needs a label before it").isEqualTo("default");
    assertThat(vhostOf("api.example.com:8080")).as("the port is part of the host").isEqualTo("default");
    // Prefix wildcards come after suffix ones; a port after the prefix still matches.
    assertThat(vhostOf("foo.bar")).isEqualTo("prefix");
    assertThat(vhostOf("foo.bar:8080")).isEqualTo("prefix");
    assertThat(vhostOf("foo.example.com")).isEqualTo("suffix");
    assertThat(vhostOf("other")).isEqualTo("default");
  }
}
