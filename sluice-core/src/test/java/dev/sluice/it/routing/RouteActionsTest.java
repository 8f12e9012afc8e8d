package dev.sluice.it.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every route action, through a full server to real backends (which echo what they receive). */
class RouteActionsTest {
  static TestBackend a;
  static TestBackend b;
  static Server server;
  static RawHttp client;

  @BeforeAll
  static void start() throws Exception {
    a = new TestBackend("a");
    b = new TestBackend("b");
    String hcm = """
        http_filters:
        - name: envoy.filters.http.cors
          typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
        """ + ProxyConfig.ROUTER + """
        route_config:
          name: actions
          request_headers_to_add:
          - {header: {key: x-level-append, value: config}, append_action: APPEND_IF_EXISTS_OR_ADD}
          - {header: {key: x-level-overwrite, value: config}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
          - {header: {key: x-level-absent, value: config}, append_action: ADD_IF_ABSENT}
          response_headers_to_add:
          - {header: {key: x-resp-level, value: config}, append_action: APPEND_IF_EXISTS_OR_ADD}
          response_headers_to_remove: [x-remove-by-config]
          virtual_hosts:
          - name: actions
            domains: ["*"]
            request_headers_to_add:
            - {header: {key: x-level-append, value: vhost}, append_action: APPEND_IF_EXISTS_OR_ADD}
            - {header: {key: x-level-overwrite, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
            - {header: {key: x-level-absent, value: vhost}, append_action: ADD_IF_ABSENT}
            - {header: {key: x-only-if-exists, value: replaced}, append_action: OVERWRITE_IF_EXISTS}
            request_headers_to_remove: [x-remove-me]
            response_headers_to_add:
            - {header: {key: x-resp-level, value: vhost}, append_action: APPEND_IF_EXISTS_OR_ADD}
            routes:
            - match: {prefix: /levels}
              request_headers_to_add:
              - {header: {key: x-level-append, value: route}, append_action: APPEND_IF_EXISTS_OR_ADD}
              - {header: {key: x-level-overwrite, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
              - {header: {key: x-level-absent, value: route}, append_action: ADD_IF_ABSENT}
              response_headers_to_add:
              - {header: {key: x-resp-level, value: route}, append_action: APPEND_IF_EXISTS_OR_ADD}
              - {header: {key: content-type, value: text/route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
              response_headers_to_remove: [x-backend-extra]
              route: {cluster: a, prefix_rewrite: /headers}
            - match: {prefix: /vars}
              request_headers_to_add:
              - header: {key: x-client, value: "%DOWNSTREAM_REMOTE_ADDRESS%"}
              - header: {key: x-client-ip, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}
              - header: {key: x-proto, value: "%PROTOCOL%"}
              - header: {key: x-copied, value: "from %REQ(x-in)%"}
              - header: {key: x-percent, value: "100%%"}
              - header: {key: x-empty, value: "%REQ(x-absent)%"}
              response_headers_to_add:
              - header: {key: x-upstream, value: "%UPSTREAM_REMOTE_ADDRESS%"}
              route: {cluster: a, prefix_rewrite: /headers}
            - match: {prefix: /weighted}
              route:
                prefix_rewrite: /headers
                weighted_clusters:
                  clusters:
                  - name: a
                    weight: 1
                    request_headers_to_add: [{header: {key: x-wc, value: to-a}}]
                    response_headers_to_add: [{header: {key: x-wc-resp, value: from-a}}]
                    host_rewrite_literal: a.internal
                  - name: b
                    weight: 1
                    request_headers_to_add: [{header: {key: x-wc, value: to-b}}]
                    request_headers_to_remove: [x-drop-for-b]
                    response_headers_to_add: [{header: {key: x-wc-resp, value: from-b}}]
            - match: {prefix: /by-header}
              route: {cluster_header: x-target, prefix_rewrite: /headers}
            - match: {prefix: /redirect/https}
              redirect: {https_redirect: true}
            - match: {prefix: /redirect/scheme}
              redirect: {scheme_redirect: https, port_redirect: 8443, response_code: PERMANENT_REDIRECT}
            - match: {prefix: /redirect/host}
              redirect: {host_redirect: new.example.com, response_code: FOUND}
            - match: {prefix: /redirect/port}
              redirect: {port_redirect: 8080, response_code: SEE_OTHER}
            - match: {prefix: /redirect/path}
              redirect: {path_redirect: /new/path, response_code: TEMPORARY_REDIRECT}
            - match: {prefix: /redirect/strip}
              redirect: {path_redirect: /stripped, strip_query: true}
            - match: {prefix: /redirect/own-query}
              redirect: {path_redirect: "/own?foo=1", strip_query: true}
            - match: {prefix: /redirect/prefix/}
              redirect: {prefix_rewrite: /v2/}
            - match: {prefix: /redirect/regex/}
              redirect: {regex_rewrite: {pattern: {regex: "^/redirect/regex/([0-9]+)$"}, substitution: "/items/\\\\1"}}
            - match: {prefix: /direct}
              direct_response: {status: 418, body: {inline_string: "I am a teapot"}}
            - match: {prefix: /empty-direct}
              direct_response: {status: 204}
            - match: {prefix: /old/}
              route: {cluster: b, prefix_rewrite: /headers/new/}
            - match: {safe_regex: {regex: "/rx/([^/]+)/(.*)"}}
              route: {cluster: b, regex_rewrite: {pattern: {regex: "^/rx/([^/]+)/(.*)$"}, substitution: "/headers/\\\\2/\\\\1"}}
            - match: {prefix: /literal-host}
              route: {cluster: a, prefix_rewrite: /headers, host_rewrite_literal: rewritten.example}
            - match: {prefix: /forwarded-host}
              route: {cluster: a, prefix_rewrite: /headers, host_rewrite_literal: rewritten.example, append_x_forwarded_host: true}
            - match: {prefix: /auto-host}
              route: {cluster: dns, prefix_rewrite: /headers, auto_host_rewrite: true}
            - match: {prefix: /timeout/}
              route: {cluster: a, timeout: 0.3s, prefix_rewrite: /}
            - match: {prefix: /cors}
              route: {cluster: b}
              typed_per_filter_config:
                envoy.filters.http.cors:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                  allow_origin_string_match: [{exact: "https://app.example"}, {suffix: ".trusted.example"}]
                  allow_methods: "GET, PUT"
                  allow_headers: "x-custom"
                  expose_headers: "x-backend"
                  max_age: "600"
                  allow_credentials: true
            - match: {prefix: /}
              route: {cluster: a}
        """;
    String dns = """
        - name: dns
          type: STRICT_DNS
          dns_lookup_family: V4_ONLY
          connect_timeout: 1s
          load_assignment:
            cluster_name: dns
            endpoints:
            - lb_endpoints:
              - endpoint: {address: {socket_address: {address: localhost, port_value: %d}}}
        """.formatted(b.port());
    server = TestServers.start(ProxyConfig.bootstrap(
        List.of(ProxyConfig.staticCluster("a", "ROUND_ROBIN", a), ProxyConfig.staticCluster("b", "ROUND_ROBIN", b), dns),
        List.of(ProxyConfig.httpListener("actions", "actions", hcm))));
    client = new RawHttp(server.listenerPort("actions"));
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
    a.close();
    b.close();
  }

  /** The header lines the backend received, as "name: value". */
  private static List<String> received(RawHttp.Response r) {
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.body().lines().toList();
  }

  @Test
  void headerMutationsApplyRouteThenVirtualHostThenRouteConfig() throws Exception {
    RawHttp.Response r = client.get("test", "/levels", "x-remove-me: 1", "x-only-if-exists: original",
        "x-level-absent: client");
    List<String> seen = received(r);
    // Envoy's default order (most_specific_header_mutations_wins false): route, vhost, config;
    // the last writer wins an overwrite, the first one an add-if-absent.
    assertThat(seen).containsSubsequence("x-level-append: route", "x-level-append: vhost", "x-level-append: config");
    assertThat(seen).contains("x-level-overwrite: config").doesNotContain("x-level-overwrite: route", "x-level-overwrite: vhost");
    assertThat(seen).contains("x-level-absent: client").doesNotContain("x-level-absent: route", "x-level-absent: config");
    assertThat(seen).contains("x-only-if-exists: replaced").noneMatch(l -> l.startsWith("x-remove-me"));
    assertThat(r.headers("x-resp-level")).containsExactly("route", "vhost", "config");
    assertThat(r.header("content-type")).isEqualTo("text/route");

    List<String> without = received(client.get("test", "/levels"));
    assertThat(without).contains("x-level-absent: route").noneMatch(l -> l.startsWith("x-only-if-exists"));
  }

  @Test
  void headerValuesAreSubstitutionFormats() throws Exception {
    int clientPort = client.localPort();
    RawHttp.Response r = client.get("test", "/vars", "x-in: client");
    assertThat(received(r)).contains(
        "x-client: 127.0.0.1:" + clientPort,
        "x-client-ip: 127.0.0.1",
        "x-proto: HTTP/1.1",
        "x-copied: from client",
        "x-percent: 100%")
        .noneMatch(l -> l.startsWith("x-empty"));
    assertThat(r.header("x-upstream")).isEqualTo("127.0.0.1:" + a.port());
  }

  @Test
  void weightedClustersCarryTheirOwnHeaderMutations() throws Exception {
    int[] seen = new int[2];
    for (int i = 0; i < 60; i++) {
      RawHttp.Response r = client.get("test", "/weighted", "x-drop-for-b: yes");
      List<String> lines = received(r);
      if (r.backend().equals("a")) {
        seen[0]++;
        assertThat(r.header("x-wc-resp")).isEqualTo("from-a");
        assertThat(lines).contains("x-wc: to-a", "host: a.internal", "x-drop-for-b: yes");
      } else {
        seen[1]++;
        assertThat(r.backend()).isEqualTo("b");
        assertThat(r.header("x-wc-resp")).isEqualTo("from-b");
        assertThat(lines).contains("x-wc: to-b", "host: test").noneMatch(l -> l.startsWith("x-drop-for-b"));
      }
    }
    // 60 fair coin flips: each side at least 5 times except with probability ~1e-12.
    assertThat(seen[0]).isGreaterThan(5);
    assertThat(seen[1]).isGreaterThan(5);
  }

  @Test
  void clusterHeaderNamesTheCluster() throws Exception {
    assertThat(client.get("test", "/by-header", "x-target: b").backend()).isEqualTo("b");
    assertThat(client.get("test", "/by-header", "x-target: a").backend()).isEqualTo("a");
    RawHttp.Response unknown = client.get("test", "/by-header", "x-target: nope");
    assertThat(unknown.status()).isEqualTo(503);
    assertThat(unknown.header("x-backend")).isNull();
    assertThat(client.get("test", "/by-header").status()).isEqualTo(503);
  }

  private static void assertRedirect(String host, String path, int status, String location) throws Exception {
    RawHttp.Response r = client.get(host, path);
    assertThat(r.status()).as("status for %s", path).isEqualTo(status);
    assertThat(r.header("location")).as("location for %s", path).isEqualTo(location);
    assertThat(r.header("x-backend")).isNull();
  }

  @Test
  void redirectsInEveryForm() throws Exception {
    assertRedirect("example.com", "/redirect/https?x=1", 301, "https://example.com/redirect/https?x=1");
    assertRedirect("example.com:80", "/redirect/https", 301, "https://example.com/redirect/https");
    assertRedirect("example.com:8000", "/redirect/https", 301, "https://example.com:8000/redirect/https");
    assertRedirect("example.com:80", "/redirect/scheme", 308, "https://example.com:8443/redirect/scheme");
    assertRedirect("example.com", "/redirect/host/a?b=c", 302, "http://new.example.com/redirect/host/a?b=c");
    assertRedirect("example.com:9000", "/redirect/port", 303, "http://example.com:8080/redirect/port");
    assertRedirect("example.com", "/redirect/path?keep=1", 307, "http://example.com/new/path?keep=1");
    assertRedirect("example.com", "/redirect/strip?drop=1", 301, "http://example.com/stripped");
    assertRedirect("example.com", "/redirect/own-query?bar=1", 301, "http://example.com/own?foo=1");
    assertRedirect("example.com", "/redirect/prefix/rest?q=1", 301, "http://example.com/v2/rest?q=1");
    assertRedirect("example.com", "/redirect/regex/42", 301, "http://example.com/items/42");
  }

  @Test
  void directResponses() throws Exception {
    RawHttp.Response teapot = client.get("test", "/direct");
    assertThat(teapot.status()).isEqualTo(418);
    assertThat(teapot.body()).isEqualTo("I am a teapot");
    assertThat(teapot.header("content-type")).isEqualTo("text/plain");
    assertThat(teapot.header("x-resp-level")).as("route config response headers apply").isEqualTo("vhost");
    RawHttp.Response empty = client.get("test", "/empty-direct");
    assertThat(empty.status()).isEqualTo(204);
    assertThat(empty.body()).isEmpty();
  }

  @Test
  void pathRewrites() throws Exception {
    RawHttp.Response prefixed = client.get("test", "/old/x/y?z=1");
    assertThat(prefixed.backend()).isEqualTo("b");
    assertThat(received(prefixed)).contains(":path: /headers/new/x/y?z=1");
    List<String> original = received(prefixed);
    assertThat(original).contains("x-envoy-original-path: /old/x/y?z=1");

    RawHttp.Response regex = client.get("test", "/rx/first/second/third?q=1");
    assertThat(received(regex)).contains(":path: /headers/second/third/first?q=1");
  }

  @Test
  void hostRewrites() throws Exception {
    assertThat(received(client.get("client.example", "/literal-host")))
        .contains("host: rewritten.example").noneMatch(l -> l.startsWith("x-forwarded-host"));
    assertThat(received(client.get("client.example", "/forwarded-host")))
        .contains("host: rewritten.example", "x-forwarded-host: client.example");
    // STRICT_DNS host: the endpoint's DNS name, as Envoy's auto_host_rewrite uses hostname().
    RawHttp.Response auto = client.get("client.example", "/auto-host");
    assertThat(auto.backend()).isEqualTo("b");
    assertThat(received(auto)).contains("host: localhost");
  }

  @Test
  void routeTimeoutAnswers504() throws Exception {
    assertThat(received(client.get("test", "/timeout/headers"))).contains("x-envoy-expected-rq-timeout-ms: 300");
    try (RawHttp other = new RawHttp(server.listenerPort("actions"))) {
      RawHttp.Response r = other.get("test", "/timeout/delay/5000");
      assertThat(r.status()).isEqualTo(504);
      assertThat(r.body()).isEqualTo("upstream request timeout");
    }
  }

  @Test
  void corsPolicyFromTypedPerFilterConfig() throws Exception {
    RawHttp.Response preflight = client.send("OPTIONS", "test", "/cors/x", "origin: https://app.example",
        "access-control-request-method: PUT");
    assertThat(preflight.status()).isEqualTo(200);
    assertThat(preflight.header("x-backend")).as("answered by the filter").isNull();
    assertThat(preflight.header("access-control-allow-origin")).isEqualTo("https://app.example");
    assertThat(preflight.header("access-control-allow-methods")).isEqualTo("GET, PUT");
    assertThat(preflight.header("access-control-allow-headers")).isEqualTo("x-custom");
    assertThat(preflight.header("access-control-max-age")).isEqualTo("600");
    assertThat(preflight.header("access-control-allow-credentials")).isEqualTo("true");

    RawHttp.Response suffix = client.send("OPTIONS", "test", "/cors/x", "origin: https://a.trusted.example",
        "access-control-request-method: GET");
    assertThat(suffix.header("access-control-allow-origin")).isEqualTo("https://a.trusted.example");

    RawHttp.Response foreign = client.send("OPTIONS", "test", "/cors/x", "origin: https://evil.example",
        "access-control-request-method: PUT");
    assertThat(foreign.header("access-control-allow-origin")).isNull();
    assertThat(foreign.backend()).as("an invalid origin's preflight goes upstream").isEqualTo("b");

    RawHttp.Response simple = client.get("test", "/cors/x", "origin: https://app.example");
    assertThat(simple.backend()).isEqualTo("b");
    assertThat(simple.header("access-control-allow-origin")).isEqualTo("https://app.example");
    assertThat(simple.header("access-control-expose-headers")).isEqualTo("x-backend");

    RawHttp.Response elsewhere = client.send("OPTIONS", "test", "/other", "origin: https://app.example",
        "access-control-request-method: PUT");
    assertThat(elsewhere.header("access-control-allow-origin")).as("no policy on other routes").isNull();
  }
}
