package dev.sluice.router;

import dev.sluice.lb.XxHash64;

import static dev.sluice.router.RouteTestSupport.get;
import static dev.sluice.router.RouteTestSupport.info;
import static dev.sluice.router.RouteTestSupport.routes;
import static dev.sluice.router.RouteTestSupport.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.api.config.ConfigException;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouteActionTest {
  @Test
  void weightedClustersConvergeToTheirWeights() {
    RouteEntry e =
        routes(
                """
                {"match":{"prefix":"/"},"route":{"weighted_clusters":{"clusters":[
                  {"name":"v1","weight":80},{"name":"v2","weight":15},{"name":"v3","weight":5}]}}}
                """)
            .route(get("h", "/"), 0);
    assertThat(e.kind()).isEqualTo(RouteEntry.Kind.WEIGHTED_CLUSTERS);
    SplittableRandom random = new SplittableRandom(42);
    Map<String, Integer> counts = new HashMap<>();
    int n = 100_000;
    for (int i = 0; i < n; i++) {
      counts.merge(e.clusterName(get("h", "/"), random.nextLong()), 1, Integer::sum);
    }
    assertThat(counts.get("v1") / (double) n).isCloseTo(0.80, org.assertj.core.data.Offset.offset(0.01));
    assertThat(counts.get("v2") / (double) n).isCloseTo(0.15, org.assertj.core.data.Offset.offset(0.01));
    assertThat(counts.get("v3") / (double) n).isCloseTo(0.05, org.assertj.core.data.Offset.offset(0.01));
    // Intervals [0,80) [80,95) [95,100) over random % 100.
    assertThat(e.clusterName(get("h", "/"), 79)).isEqualTo("v1");
    assertThat(e.clusterName(get("h", "/"), 80)).isEqualTo("v2");
    assertThat(e.clusterName(get("h", "/"), 199)).isEqualTo("v3");
  }

  @Test
  void weightedClusterRandomValueHeaderAndPerClusterSettings() {
    RouteEntry e =
        routes(
                """
                {"match":{"prefix":"/"},"route":{"weighted_clusters":{"header_name":"x-pick","total_weight":7,"clusters":[
                  {"name":"a","weight":1,"request_headers_to_add":[{"header":{"key":"x-cluster","value":"a"}}],
                   "typed_per_filter_config":{"f":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"wc-a"}}},
                  {"cluster_header":"x-dest","weight":1,"host_rewrite_literal":"b.internal"}]}},
                 "typed_per_filter_config":{"f":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"route"}}}
                """)
            .route(get("h", "/"), 0);
    Http2Headers pickB = get("h", "/").set("x-pick", "3").set("x-dest", "dyn");
    // total_weight is deprecated and ignored: the sum (2) decides.
    assertThat(e.clusterName(pickB, 0)).isEqualTo("dyn");
    WeightedCluster b = e.pickWeightedCluster(pickB, 0);
    e.finalizeRequestHeaders(pickB, info(), b, true);
    assertThat(pickB.authority().toString()).isEqualTo("b.internal");
    Http2Headers pickA = get("h", "/").set("x-pick", "4");
    WeightedCluster a = e.pickWeightedCluster(pickA, 1);
    assertThat(a.name()).isEqualTo("a");
    e.applyRequestHeaderMutations(pickA, info(), a);
    assertThat(pickA.get("x-cluster").toString()).isEqualTo("a");
    assertThat(e.perFilterConfig("f", a).toString()).contains("wc-a");
    assertThat(e.perFilterConfig("f").toString()).contains("route");
    // A multi-valued or invalid header falls back to the stream's random value.
    Http2Headers bad = get("h", "/").add("x-pick", "2").add("x-pick", "3");
    assertThat(e.pickWeightedCluster(bad, 1).name()).isNull();
    assertThatThrownBy(
            () ->
                routes(
                    "{\"match\":{\"prefix\":\"/\"},\"route\":{\"weighted_clusters\":{\"clusters\":[{\"name\":\"a\",\"weight\":0}]}}}"))
        .hasMessageContaining("route.weighted_clusters: Sum of weights");
  }

  @Test
  void clusterHeaderNamesTheCluster() {
    RouteEntry e = routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster_header\":\"X-Cluster\"}}").route(get("h", "/"), 0);
    assertThat(e.kind()).isEqualTo(RouteEntry.Kind.CLUSTER_HEADER);
    assertThat(e.clusterName(get("h", "/").set("x-cluster", "picked"), 0)).isEqualTo("picked");
    assertThat(e.clusterName(get("h", "/"), 0)).isNull();
  }

  private static final String MUTATIONS =
      """
      {"request_headers_to_add":[{"header":{"key":"x-level","value":"config"},"append_action":"OVERWRITE_IF_EXISTS_OR_ADD"},
                                 {"header":{"key":"x-all","value":"config"}}],
       "response_headers_to_add":[{"header":{"key":"x-resp","value":"config"},"append":false}],
       %s
       "virtual_hosts":[{"name":"vh","domains":["*"],
         "request_headers_to_add":[{"header":{"key":"x-level","value":"vhost"},"append_action":"OVERWRITE_IF_EXISTS_OR_ADD"},
                                   {"header":{"key":"x-all","value":"vhost"}}],
         "response_headers_to_add":[{"header":{"key":"x-resp","value":"vhost"},"append":false}],
         "routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"},
           "request_headers_to_add":[{"header":{"key":"x-level","value":"route"},"append_action":"OVERWRITE_IF_EXISTS_OR_ADD"},
                                     {"header":{"key":"x-all","value":"route"}}],
           "request_headers_to_remove":["x-remove-me"],
           "response_headers_to_add":[{"header":{"key":"x-resp","value":"route"},"append":false}]}]}]}
      """;

  @Test
  void leastSpecificLevelWinsByDefault() {
    RouteEntry e = table(MUTATIONS.formatted("")).route(get("h", "/"), 0);
    Http2Headers h = get("h", "/").set("x-remove-me", "1");
    e.applyRequestHeaderMutations(h, info());
    // Route first, then virtual host, then route configuration: the last overwrite wins.
    assertThat(h.get("x-level").toString()).isEqualTo("config");
    assertThat(h.getAll("x-all")).extracting(Object::toString).containsExactly("route", "vhost", "config");
    assertThat(h.contains("x-remove-me")).isFalse();
    Http2Headers resp = new DefaultHttp2Headers().status("200");
    e.applyResponseHeaderMutations(resp, info());
    assertThat(resp.get("x-resp").toString()).isEqualTo("config");
  }

  @Test
  void mostSpecificHeaderMutationsWinsReversesTheOrder() {
    RouteEntry e =
        table(MUTATIONS.formatted("\"most_specific_header_mutations_wins\":true,")).route(get("h", "/"), 0);
    Http2Headers h = get("h", "/");
    e.applyRequestHeaderMutations(h, info());
    assertThat(h.get("x-level").toString()).isEqualTo("route");
    assertThat(h.getAll("x-all")).extracting(Object::toString).containsExactly("config", "vhost", "route");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        // action | existing value ("" = absent) | expected values
        "APPEND_IF_EXISTS_OR_ADD | old | old,new",
        "APPEND_IF_EXISTS_OR_ADD | '' | new",
        "ADD_IF_ABSENT | old | old",
        "ADD_IF_ABSENT | '' | new",
        "OVERWRITE_IF_EXISTS_OR_ADD | old | new",
        "OVERWRITE_IF_EXISTS_OR_ADD | '' | new",
        "OVERWRITE_IF_EXISTS | old | new",
        "OVERWRITE_IF_EXISTS | '' | ''",
      })
  void appendActions(String action, String existing, String expected) {
    RouteEntry e =
        routes(
                "{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\"},\"request_headers_to_add\":[{\"header\":{\"key\":\"x-h\",\"value\":\"new\"},\"append_action\":\""
                    + action
                    + "\"}]}")
            .route(get("h", "/"), 0);
    Http2Headers h = get("h", "/");
    if (!existing.isEmpty()) {
      h.add("x-h", existing);
    }
    e.applyRequestHeaderMutations(h, info());
    assertThat(String.join(",", h.getAll("x-h").stream().map(Object::toString).toList())).isEqualTo(expected);
  }

  @Test
  void headerMutationValidation() {
    assertThatThrownBy(
            () ->
                routes(
                    "{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\"},\"request_headers_to_add\":[{\"header\":{\"key\":\"x\",\"value\":\"v\"},\"append\":true,\"append_action\":\"ADD_IF_ABSENT\"}]}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("virtual_hosts[0].routes[0].request_headers_to_add[0]: Both append and append_action");
    assertThatThrownBy(
            () ->
                routes(
                    "{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\"},\"request_headers_to_remove\":[\":path\"]}"))
        .hasMessageStartingWith("virtual_hosts[0].routes[0].request_headers_to_remove[0]:");
    assertThatThrownBy(
            () ->
                routes(
                    "{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\"},\"request_headers_to_add\":[{\"header\":{\"key\":\"Host\",\"value\":\"v\"}}]}"))
        .hasMessageStartingWith("virtual_hosts[0].routes[0].request_headers_to_add[0].header.key:");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"prefix\":\"/api/\"} | \"prefix_rewrite\":\"/\" | /api/v1/users?x=1 | /v1/users?x=1",
        "{\"prefix\":\"/api\"} | \"prefix_rewrite\":\"/v2\" | /api/users | /v2/users",
        "{\"path\":\"/old\"} | \"prefix_rewrite\":\"/new\" | /old?q | /new?q",
        "{\"safe_regex\":{\"regex\":\"/svc/[0-9]+\"}} | \"prefix_rewrite\":\"/x\" | /svc/12?q | /x?q",
        "{\"prefix\":\"/\"} | \"regex_rewrite\":{\"pattern\":{\"regex\":\"^/service/([^/]+)(/.*)$\"},\"substitution\":\"\\\\2/instance/\\\\1\"} | /service/foo/v1/api?a=b | /v1/api/instance/foo?a=b",
        "{\"prefix\":\"/\"} | \"regex_rewrite\":{\"pattern\":{\"regex\":\"one\"},\"substitution\":\"two\"} | /xxx/one/yyy/one/zzz | /xxx/two/yyy/two/zzz",
        "{\"prefix\":\"/API\",\"case_sensitive\":false} | \"prefix_rewrite\":\"/v\" | /api/x | /v/x",
      })
  void pathRewrites(String match, String rewrite, String path, String expected) {
    RouteEntry e =
        routes("{\"match\":" + match + ",\"route\":{\"cluster\":\"c\"," + rewrite + "}}").route(get("h", path), 0);
    Http2Headers h = get("h", path);
    assertThat(e.rewritePath(h, true)).isTrue();
    assertThat(h.path().toString()).isEqualTo(expected);
    assertThat(h.get("x-envoy-original-path").toString()).isEqualTo(path);
    Http2Headers suppressed = get("h", path);
    e.rewritePath(suppressed, false);
    assertThat(suppressed.contains("x-envoy-original-path")).isFalse();
  }

  @Test
  void noRewriteLeavesThePathAlone() {
    RouteEntry e = routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\"}}").route(get("h", "/a"), 0);
    Http2Headers h = get("h", "/a");
    e.finalizeRequestHeaders(h, info(), null, true);
    assertThat(h.path().toString()).isEqualTo("/a");
    assertThat(h.contains("x-envoy-original-path")).isFalse();
  }

  @Test
  void hostRewrites() {
    Http2Headers h = get("orig.host", "/p/x");
    routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\",\"host_rewrite_literal\":\"new.host\",\"append_x_forwarded_host\":true}}")
        .route(h, 0)
        .rewriteHost(h);
    assertThat(h.authority().toString()).isEqualTo("new.host");
    assertThat(h.get("x-forwarded-host").toString()).isEqualTo("orig.host");

    Http2Headers byHeader = get("orig", "/").set("x-host", "from.header");
    routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\",\"host_rewrite_header\":\"x-host\"}}")
        .route(byHeader, 0)
        .rewriteHost(byHeader);
    assertThat(byHeader.authority().toString()).isEqualTo("from.header");

    Http2Headers byPath = get("orig", "/svc/reviews/x?q");
    routes(
            "{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\",\"host_rewrite_path_regex\":{\"pattern\":{\"regex\":\"^/svc/([^/]+)/.*$\"},\"substitution\":\"\\\\1.svc\"}}}")
        .route(byPath, 0)
        .rewriteHost(byPath);
    assertThat(byPath.authority().toString()).isEqualTo("reviews.svc");

    RouteEntry auto = routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\",\"auto_host_rewrite\":true}}").route(h, 0);
    assertThat(auto.autoHostRewrite()).isTrue();
    Http2Headers a = get("orig", "/");
    auto.applyAutoHostRewrite(a, "upstream.example");
    assertThat(a.authority().toString()).isEqualTo("upstream.example");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        // redirect JSON | scheme | authority | path | status | Location
        "{\"https_redirect\":true} | http | example.com | /a?b | 301 | https://example.com/a?b",
        "{\"https_redirect\":true} | http | example.com:80 | /a | 301 | https://example.com/a",
        "{\"https_redirect\":true} | http | example.com:8080 | /a | 301 | https://example.com:8080/a",
        "{\"scheme_redirect\":\"HTTP\"} | https | example.com:443 | /a | 301 | http://example.com/a",
        "{\"host_redirect\":\"other.com\",\"response_code\":\"FOUND\"} | http | example.com | /a | 302 | http://other.com/a",
        "{\"port_redirect\":8443} | http | example.com:8080 | /a | 301 | http://example.com:8443/a",
        "{\"port_redirect\":8443} | http | [::1]:8080 | /a | 301 | http://[::1]:8443/a",
        "{\"path_redirect\":\"/new\"} | http | h | /old?x=1 | 301 | http://h/new?x=1",
        "{\"path_redirect\":\"/new?y=2\",\"strip_query\":true} | http | h | /old?x=1 | 301 | http://h/new?y=2",
        "{\"strip_query\":true,\"response_code\":\"SEE_OTHER\"} | http | h | /old?x=1 | 303 | http://h/old",
        "{\"prefix_rewrite\":\"/v2/\",\"response_code\":\"TEMPORARY_REDIRECT\"} | http | h | /v1/users?a | 307 | http://h/v2/users?a",
        "{\"regex_rewrite\":{\"pattern\":{\"regex\":\"^/old/(.*)$\"},\"substitution\":\"/new/\\\\1\"},\"response_code\":\"PERMANENT_REDIRECT\"} | http | h | /old/x?q | 308 | http://h/new/x?q",
      })
  void redirects(String redirect, String scheme, String authority, String path, int status, String location) {
    String match = redirect.contains("prefix_rewrite") ? "{\"prefix\":\"/v1/\"}" : "{\"prefix\":\"/\"}";
    Http2Headers h = get(authority, path).scheme(scheme);
    RouteEntry e = routes("{\"match\":" + match + ",\"redirect\":" + redirect + "}").route(h, 0);
    assertThat(e.kind()).isEqualTo(RouteEntry.Kind.REDIRECT);
    assertThat(e.redirectStatus()).isEqualTo(status);
    assertThat(e.redirectLocation(h)).isEqualTo(location);
  }

  @Test
  void requireTlsRedirectsPlainTextRequests() {
    RouteTable t =
        table(
            """
            {"virtual_hosts":[{"name":"secure","domains":["*"],"require_tls":"EXTERNAL_ONLY","include_request_attempt_count":true,
              "routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]}]}
            """);
    Http2Headers plain = get("example.com", "/x");
    RouteEntry e = t.route(plain, 0);
    assertThat(e.kind()).isEqualTo(RouteEntry.Kind.REDIRECT);
    assertThat(e.redirectStatus()).isEqualTo(301);
    assertThat(e.redirectLocation(plain)).isEqualTo("https://example.com/x");
    assertThat(t.route(get("example.com", "/x").set("x-forwarded-proto", "https"), 0).kind())
        .isEqualTo(RouteEntry.Kind.CLUSTER);
    assertThat(t.route(get("example.com", "/x").set("x-envoy-internal", "true"), 0).kind())
        .isEqualTo(RouteEntry.Kind.CLUSTER);
    assertThat(e.virtualHost().includeRequestAttemptCount()).isTrue();
  }

  @Test
  void directResponses() {
    RouteTable t =
        routes(
            """
            {"name":"text","match":{"path":"/text"},"direct_response":{"status":503,"body":{"inline_string":"unavailable"}}},
            {"name":"bytes","match":{"path":"/bytes"},"direct_response":{"status":200,"body":{"inline_bytes":"AAEC"}}},
            {"name":"moved","match":{"path":"/moved"},"direct_response":{"status":301}}
            """);
    RouteEntry text = t.route(get("h", "/text"), 0);
    assertThat(text.kind()).isEqualTo(RouteEntry.Kind.DIRECT_RESPONSE);
    assertThat(text.directResponseStatus()).isEqualTo(503);
    assertThat(new String(text.directResponseBody(), StandardCharsets.UTF_8)).isEqualTo("unavailable");
    assertThat(text.directResponseLocation(get("h", "/text"))).isNull();
    assertThat(t.route(get("h", "/bytes"), 0).directResponseBody()).containsExactly(0, 1, 2);
    assertThat(t.route(get("h", "/moved"), 0).directResponseLocation(get("h", "/moved"))).isEqualTo("http://h/moved");
    assertThatThrownBy(
            () -> routes("{\"match\":{\"prefix\":\"/\"},\"direct_response\":{\"status\":200,\"body\":{\"filename\":\"/etc/x\"}}}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("virtual_hosts[0].routes[0].direct_response.body: only inline_string and inline_bytes");
  }

  @Test
  void timeoutsAndPoliciesAreKept() {
    RouteEntry defaults = routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\"}}").route(get("h", "/"), 0);
    assertThat(defaults.timeout()).isEqualTo(Duration.ofSeconds(15));
    assertThat(defaults.idleTimeout()).isNull();
    assertThat(defaults.retryPolicy()).isNull();
    assertThat(defaults.hashPolicy()).isNull();
    RouteEntry e =
        table(
                """
                {"virtual_hosts":[{"name":"vh","domains":["*"],"retry_policy":{"num_retries":5},
                  "routes":[{"name":"r","match":{"prefix":"/"},"decorator":{"operation":"op"},
                    "metadata":{"filter_metadata":{"istio":{"config":"x"}}},
                    "route":{"cluster":"c","timeout":"0s","idle_timeout":"30s",
                      "max_stream_duration":{"max_stream_duration":"60s","grpc_timeout_header_max":"10s","grpc_timeout_header_offset":"0.5s"},
                      "request_mirror_policies":[{"cluster":"mirror"}]}}]}]}
                """)
            .route(get("h", "/"), 0);
    assertThat(e.timeout()).isEqualTo(Duration.ZERO);
    assertThat(e.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(e.maxStreamDuration()).isEqualTo(Duration.ofSeconds(60));
    assertThat(e.grpcTimeoutHeaderMax()).isEqualTo(Duration.ofSeconds(10));
    assertThat(e.grpcTimeoutHeaderOffset()).isEqualTo(Duration.ofMillis(500));
    assertThat(e.retryPolicy().numRetries()).isEqualTo(5); // inherited from the virtual host
    assertThat(e.mirrorPolicies()).extracting(p -> p.clusterName(get("h", "/"))).containsExactly("mirror");
    assertThat(e.decoratorOperation()).isEqualTo("op");
    assertThat(e.metadata().getFilterMetadataOrThrow("istio").getFieldsOrThrow("config").getStringValue()).isEqualTo("x");
  }

  @Test
  void perFilterConfigIsMostSpecificFirst() {
    RouteTable t =
        table(
            """
            {"typed_per_filter_config":{"a":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"config-a"},
                                        "b":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"config-b"}},
             "virtual_hosts":[{"name":"vh","domains":["*"],
               "typed_per_filter_config":{"a":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"vhost-a"}},
               "routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"},
                 "typed_per_filter_config":{"a":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"route-a"}}}]}]}
            """);
    RouteTable compiled =
        RouteTable.compile(
            RouteTestSupport.config(
                """
                {"typed_per_filter_config":{"a":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"config-a"}},
                 "virtual_hosts":[{"name":"vh","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]}]}
                """),
            new RouteCompileContext() {
              @Override
              public Object compileFilterConfig(String filterName, com.google.protobuf.Any config, String fieldPath) {
                return filterName + "@" + fieldPath;
              }
            });
    RouteEntry e = t.route(get("h", "/"), 0);
    assertThat(e.perFilterConfig("a").toString()).contains("route-a");
    assertThat(e.perFilterConfigs("a")).hasSize(3);
    assertThat(e.perFilterConfig("b").toString()).contains("config-b");
    assertThat(e.perFilterConfig("c")).isNull();
    assertThat(compiled.route(get("h", "/"), 0).perFilterConfig("a")).isEqualTo("a@typed_per_filter_config[a]");
  }

  @Test
  void clusterValidationGoesThroughTheContext() {
    RouteCompileContext strict =
        new RouteCompileContext() {
          @Override
          public void validateCluster(String clusterName, String fieldPath) {
            if (!clusterName.equals("known")) {
              throw new ConfigException(fieldPath, "unknown cluster '" + clusterName + "'");
            }
          }
        };
    String json =
        "{\"validate_clusters\":true,\"virtual_hosts\":[{\"name\":\"vh\",\"domains\":[\"*\"],\"routes\":[{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"missing\"}}]}]}";
    assertThatThrownBy(() -> RouteTable.compile(RouteTestSupport.config(json), strict))
        .hasMessage("virtual_hosts[0].routes[0].route.cluster: unknown cluster 'missing'");
    RouteTable.compile(RouteTestSupport.config(json.replace("true", "false")), strict);
  }

  @Test
  void hashPolicyCombinesLikeEnvoy() {
    RouteEntry e =
        routes(
                """
                {"match":{"prefix":"/"},"route":{"cluster":"c","hash_policy":[
                  {"header":{"header_name":"x-user"}},
                  {"cookie":{"name":"session"}},
                  {"connection_properties":{"source_ip":true}},
                  {"query_parameter":{"name":"id"}}]}}
                """)
            .route(get("h", "/"), 0);
    HashPolicy p = e.hashPolicy();
    long[] out = new long[1];
    InetSocketAddress remote = new InetSocketAddress("10.1.2.3", 5555);
    Http2Headers h = get("h", "/p?id=7").set("x-user", "jason").add("cookie", "a=b; session=\"s1\"");
    assertThat(p.computeHash(h, remote, out)).isTrue();
    long expected = 0;
    for (String v : new String[] {"jason", "s1", "10.1.2.3", "7"}) {
      expected = (expected == 0 ? 0 : Long.rotateLeft(expected, 1)) ^ XxHash64.hash(v, 0);
    }
    assertThat(out[0]).isEqualTo(expected);
    // Multiple header values hash the same in any order.
    long[] ab = new long[1];
    long[] ba = new long[1];
    RouteEntry hdr =
        routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\",\"hash_policy\":[{\"header\":{\"header_name\":\"x\"}}]}}")
            .route(get("h", "/"), 0);
    hdr.hashPolicy().computeHash(get("h", "/").add("x", "a").add("x", "b"), null, ab);
    hdr.hashPolicy().computeHash(get("h", "/").add("x", "b").add("x", "a"), null, ba);
    assertThat(ab[0]).isEqualTo(ba[0]).isEqualTo(XxHash64.hash("b", XxHash64.hash("a", 0)));
    assertThat(hdr.hashPolicy().computeHash(get("h", "/"), null, ab)).isFalse();
  }

  @Test
  void terminalHashPolicyStopsOnceAHashExists() {
    RouteEntry e =
        routes(
                """
                {"match":{"prefix":"/"},"route":{"cluster":"c","hash_policy":[
                  {"header":{"header_name":"x-a"},"terminal":true},
                  {"header":{"header_name":"x-b"}}]}}
                """)
            .route(get("h", "/"), 0);
    long[] out = new long[1];
    e.hashPolicy().computeHash(get("h", "/").set("x-a", "1").set("x-b", "2"), null, out);
    assertThat(out[0]).isEqualTo(XxHash64.hash("1", 0));
    e.hashPolicy().computeHash(get("h", "/").set("x-b", "2"), null, out);
    assertThat(out[0]).isEqualTo(XxHash64.hash("2", 0));
  }

  @Test
  void xxHash64MatchesReferenceVectors() {
    assertThat(XxHash64.hash("", 0)).isEqualTo(0xEF46DB3751D8E999L);
    assertThat(XxHash64.hash("a", 0)).isEqualTo(0xD24EC4F1A98C6E5BL);
    assertThat(XxHash64.hash("abc", 0)).isEqualTo(0x44BC2CF5AD770999L);
    assertThat(XxHash64.hash("Nobody inspects the spammish repetition", 0)).isEqualTo(0xFBCEA83C8A378BF1L);
  }
}
