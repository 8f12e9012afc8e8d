package dev.sluice.router;

import static dev.sluice.router.RouteTestSupport.get;
import static dev.sluice.router.RouteTestSupport.routes;
import static dev.sluice.router.RouteTestSupport.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.api.config.ConfigException;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code retry_policy} and {@code request_mirror_policies} compiled once, with Envoy's defaults and errors. */
class RetryPolicyTest {
  private static RetryPolicy policy(String json) {
    return routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\",\"retry_policy\":" + json + "}}")
        .route(get("h", "/"), 0)
        .retryPolicy();
  }

  @Test
  void defaultsAreEnvoys() {
    RetryPolicy p = policy("{\"retry_on\":\"5xx\"}");
    assertThat(p.retryOn()).isEqualTo(RetryOn.FIVE_XX);
    assertThat(p.numRetries()).isEqualTo(1);
    assertThat(p.baseIntervalMillis()).isEqualTo(25);
    assertThat(p.maxIntervalMillis()).isEqualTo(250);
    assertThat(p.perTryTimeoutNanos()).isZero();
    assertThat(p.previousHostsPredicate()).isFalse();
    assertThat(p.hostSelectionMaxAttempts()).isZero();
    assertThat(RetryPolicy.NONE.retryOn()).isZero();
    assertThat(RetryPolicy.NONE.numRetries()).isEqualTo(1);
  }

  @Test
  void istiosPolicyCompiles() {
    RetryPolicy p = policy("""
        {"retry_on":"connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes","num_retries":2,
         "retry_host_predicate":[{"name":"envoy.retry_host_predicates.previous_hosts"}],
         "host_selection_retry_max_attempts":"5","retriable_status_codes":[503],
         "per_try_timeout":"0.25s","per_try_idle_timeout":"1s",
         "retry_back_off":{"base_interval":"0.0005s"},
         "rate_limited_retry_back_off":{"reset_headers":[{"name":"retry-after"}]}}
        """);
    assertThat(p.retryOn()).isEqualTo(RetryOn.CONNECT_FAILURE | RetryOn.REFUSED_STREAM | RetryOn.GRPC_UNAVAILABLE
        | RetryOn.GRPC_CANCELLED | RetryOn.RETRIABLE_STATUS_CODES);
    assertThat(p.numRetries()).isEqualTo(2);
    assertThat(p.previousHostsPredicate()).isTrue();
    assertThat(p.hostSelectionMaxAttempts()).isEqualTo(5);
    assertThat(p.retriableStatusCode(503)).isTrue();
    assertThat(p.retriableStatusCode(502)).isFalse();
    assertThat(p.perTryTimeoutNanos()).isEqualTo(250_000_000L);
    assertThat(p.perTryIdleTimeoutNanos()).isEqualTo(1_000_000_000L);
    // Below 1 ms rounds up to 1 ms; the cap defaults to ten times the base.
    assertThat(p.baseIntervalMillis()).isEqualTo(1);
    assertThat(p.maxIntervalMillis()).isEqualTo(10);
  }

  @Test
  void retryOnTokensParseAndUnknownOnesAreIgnored() {
    assertThat(RetryOn.parseHttp("5xx, gateway-error,reset,reset-before-request,retriable-4xx,retriable-headers,"
        + "http3-post-connect-failure,unavailable,bogus"))
        .isEqualTo(RetryOn.FIVE_XX | RetryOn.GATEWAY_ERROR | RetryOn.RESET | RetryOn.RESET_BEFORE_REQUEST
            | RetryOn.RETRIABLE_4XX | RetryOn.RETRIABLE_HEADERS | RetryOn.HTTP3_POST_CONNECT_FAILURE);
    assertThat(RetryOn.parseGrpc("cancelled,deadline-exceeded,internal,resource-exhausted,unavailable,5xx"))
        .isEqualTo(RetryOn.ANY_GRPC);
    assertThat(policy("{\"retry_on\":\"5xx,not-a-condition\"}").retryOn()).isEqualTo(RetryOn.FIVE_XX);
    assertThat(RetryOn.forGrpcStatus(14)).isEqualTo(RetryOn.GRPC_UNAVAILABLE);
    assertThat(RetryOn.forGrpcStatus(0)).isZero();
  }

  @Test
  void headerMatchersDecideRetriableResponsesAndRequests() {
    RetryPolicy p = policy("""
        {"retry_on":"retriable-headers","retriable_headers":[{"name":"x-retry","string_match":{"exact":"yes"}}],
         "retriable_request_headers":[{"name":":method","string_match":{"exact":"GET"}}]}
        """);
    Http2Headers response = new DefaultHttp2Headers().status("200").add("x-retry", "yes");
    assertThat(p.matchesRetriableHeaders(response)).isTrue();
    assertThat(p.matchesRetriableHeaders(new DefaultHttp2Headers().status("200").add("x-retry", "no"))).isFalse();
    assertThat(p.requestMayRetry(get("h", "/"))).isTrue();
    assertThat(p.requestMayRetry(RouteTestSupport.request("POST", "h", "/"))).isFalse();
  }

  @Test
  void aRoutePolicyReplacesTheVirtualHostsWhole() {
    RouteTable t = table("""
        {"virtual_hosts":[{"name":"vh","domains":["*"],"retry_policy":{"retry_on":"5xx","num_retries":4},
          "routes":[{"match":{"prefix":"/own"},"route":{"cluster":"c","retry_policy":{"retry_on":"reset"}}},
                    {"match":{"prefix":"/"},"route":{"cluster":"c"}}]}]}
        """);
    RetryPolicy own = t.route(get("h", "/own"), 0).retryPolicy();
    assertThat(own.retryOn()).isEqualTo(RetryOn.RESET);
    assertThat(own.numRetries()).isEqualTo(1);
    assertThat(t.route(get("h", "/x"), 0).retryPolicy().numRetries()).isEqualTo(4);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"retry_back_off\":{\"max_interval\":\"1s\"}}|virtual_hosts[0].routes[0].route.retry_policy.retry_back_off.base_interval: value is required",
      "{\"retry_back_off\":{\"base_interval\":\"0s\"}}|virtual_hosts[0].routes[0].route.retry_policy.retry_back_off.base_interval: value must be greater than 0s",
      "{\"retry_back_off\":{\"base_interval\":\"1s\",\"max_interval\":\"0.5s\"}}|virtual_hosts[0].routes[0].route.retry_policy.retry_back_off.max_interval: max_interval must be greater than or equal to the base_interval",
      "{\"per_try_timeout\":\"-1s\"}|virtual_hosts[0].routes[0].route.retry_policy.per_try_timeout: duration must be non-negative",
      "{\"retry_host_predicate\":[{\"name\":\"envoy.retry_host_predicates.omit_canary_hosts\"}]}|virtual_hosts[0].routes[0].route.retry_policy.retry_host_predicate[0]: unsupported retry host predicate",
      "{\"retriable_headers\":[{\"name\":\"\"}]}|virtual_hosts[0].routes[0].route.retry_policy.retriable_headers[0].name: value length must be at least 1 characters",
  })
  void badValuesNameTheirField(String json, String message) {
    assertThatThrownBy(() -> policy(json)).isInstanceOf(ConfigException.class).hasMessageStartingWith(message);
  }

  @Test
  void aVirtualHostPolicyErrorNamesTheVirtualHost() {
    assertThatThrownBy(() -> table("""
        {"virtual_hosts":[{"name":"vh","domains":["*"],"retry_policy":{"retry_back_off":{}},"routes":[]}]}
        """))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("virtual_hosts[0].retry_policy.retry_back_off.base_interval");
  }

  @Test
  void mirrorPoliciesCompile() {
    RouteEntry e = routes("""
        {"match":{"prefix":"/"},"route":{"cluster":"c","request_mirror_policies":[
          {"cluster":"m","runtime_fraction":{"default_value":{"numerator":25}},"trace_sampled":false},
          {"cluster_header":"X-Mirror","disable_shadow_host_suffix_append":true}]}}
        """).route(get("h", "/"), 0);
    MirrorPolicy fixed = e.mirrorPolicies().get(0);
    MirrorPolicy byHeader = e.mirrorPolicies().get(1);
    assertThat(fixed.clusterName(get("h", "/"))).isEqualTo("m");
    assertThat(fixed.sampled(24)).isTrue();
    assertThat(fixed.sampled(25)).isFalse();
    assertThat(fixed.traceSampled()).isFalse();
    assertThat(byHeader.clusterName(get("h", "/"))).isNull();
    assertThat(byHeader.clusterName(get("h", "/").add("x-mirror", "other"))).isEqualTo("other");
    assertThat(byHeader.sampled(99)).isTrue();
    assertThat(byHeader.disableShadowHostSuffixAppend()).isTrue();
    assertThatThrownBy(() -> routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\",\"request_mirror_policies\":[{}]}}"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("virtual_hosts[0].routes[0].route.request_mirror_policies[0]: exactly one of cluster and cluster_header");
  }

  @ParameterizedTest
  @CsvSource({"example.com, example.com-shadow", "example.com:8080, example.com-shadow:8080",
      "10.0.0.1:80, 10.0.0.1-shadow:80", "[::1]:80, [::1]-shadow:80", "[::1], [::1]-shadow"})
  void shadowAuthorityKeepsThePort(String authority, String shadow) {
    assertThat(MirrorPolicy.shadowAuthority(authority)).isEqualTo(shadow);
  }

  @Test
  void perRequestBufferLimitComesFromTheRouteThenTheVirtualHost() {
    RouteTable t = table("""
        {"virtual_hosts":[{"name":"vh","domains":["*"],"per_request_buffer_limit_bytes":2048,
          "routes":[{"match":{"prefix":"/own"},"per_request_buffer_limit_bytes":16,"route":{"cluster":"c"}},
                    {"match":{"prefix":"/"},"route":{"cluster":"c"}}]}]}
        """);
    assertThat(t.route(get("h", "/own"), 0).perRequestBufferLimitBytes()).isEqualTo(16);
    assertThat(t.route(get("h", "/x"), 0).perRequestBufferLimitBytes()).isEqualTo(2048);
    assertThat(routes("{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\"}}").route(get("h", "/"), 0)
        .perRequestBufferLimitBytes()).isEqualTo(-1);
  }
}
