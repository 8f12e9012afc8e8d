package dev.sluice.router;

import static dev.sluice.router.RouteTestSupport.get;
import static dev.sluice.router.RouteTestSupport.routes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.api.config.ConfigException;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RouteMatchingTest {
  private static Http2Headers with(Http2Headers h, String... nameValues) {
    for (int i = 0; i < nameValues.length; i += 2) {
      h.add(nameValues[i], nameValues[i + 1]);
    }
    return h;
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // match JSON, request, expected to match
        Arguments.of("{\"prefix\":\"/api\"}", get("h", "/api/v1?x=1"), true),
        Arguments.of("{\"prefix\":\"/api\"}", get("h", "/API/v1"), false),
        Arguments.of("{\"prefix\":\"/api\",\"case_sensitive\":false}", get("h", "/API/v1"), true),
        Arguments.of("{\"prefix\":\"/api?\"}", get("h", "/api?x"), false), // query stripped first
        Arguments.of("{\"prefix\":\"\"}", get("h", "/anything"), true),
        Arguments.of("{\"path\":\"/productpage\"}", get("h", "/productpage?u=normal"), true),
        Arguments.of("{\"path\":\"/productpage\"}", get("h", "/productpage/x"), false),
        Arguments.of("{\"path\":\"/Login\",\"case_sensitive\":false}", get("h", "/login"), true),
        Arguments.of("{\"safe_regex\":{\"regex\":\"/ratings/[0-9]+\"}}", get("h", "/ratings/42?x=y"), true),
        Arguments.of("{\"safe_regex\":{\"regex\":\"/ratings/[0-9]+\"}}", get("h", "/ratings/42/x"), false),
        Arguments.of("{\"path_separated_prefix\":\"/api\"}", get("h", "/api"), true),
        Arguments.of("{\"path_separated_prefix\":\"/api\"}", get("h", "/api/x"), true),
        Arguments.of("{\"path_separated_prefix\":\"/api\"}", get("h", "/api?q"), true),
        Arguments.of("{\"path_separated_prefix\":\"/api\"}", get("h", "/apix"), false),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"end-user\",\"string_match\":{\"exact\":\"jason\"}}]}",
            with(get("h", "/"), "end-user", "jason"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"end-user\",\"string_match\":{\"exact\":\"jason\"}}]}",
            with(get("h", "/"), "end-user", "Jason"),
            false),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"end-user\",\"string_match\":{\"exact\":\"jason\",\"ignore_case\":true}}]}",
            with(get("h", "/"), "end-user", "JASON"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"string_match\":{\"prefix\":\"ab\"}}]}",
            with(get("h", "/"), "x", "abc"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"string_match\":{\"suffix\":\"bc\"}}]}",
            with(get("h", "/"), "x", "abc"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"string_match\":{\"contains\":\"B\",\"ignore_case\":true}}]}",
            with(get("h", "/"), "x", "abc"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"string_match\":{\"safe_regex\":{\"regex\":\"a.c\"}}}]}",
            with(get("h", "/"), "x", "abc"),
            true),
        // Repeated headers are joined with ',' before matching.
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"string_match\":{\"exact\":\"a,b\"}}]}",
            with(get("h", "/"), "x", "a", "x", "b"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"exact_match\":\"abc\"}]}",
            with(get("h", "/"), "x", "abc"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"prefix_match\":\"ab\",\"invert_match\":true}]}",
            with(get("h", "/"), "x", "abc"),
            false),
        // An absent header never matches a value matcher, even inverted.
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"prefix_match\":\"ab\",\"invert_match\":true}]}",
            get("h", "/"),
            false),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"string_match\":{\"exact\":\"\"},\"treat_missing_header_as_empty\":true}]}",
            get("h", "/"),
            true),
        Arguments.of("{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\"}]}", with(get("h", "/"), "x", ""), true),
        Arguments.of("{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"present_match\":true}]}", get("h", "/"), false),
        Arguments.of("{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"present_match\":false}]}", get("h", "/"), true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"present_match\":true,\"invert_match\":true}]}",
            get("h", "/"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"range_match\":{\"start\":-10,\"end\":0}}]}",
            with(get("h", "/"), "x", "-1"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"range_match\":{\"start\":-10,\"end\":0}}]}",
            with(get("h", "/"), "x", "0"),
            false),
        Arguments.of(
            "{\"prefix\":\"/\",\"headers\":[{\"name\":\":method\",\"string_match\":{\"exact\":\"GET\"}}]}",
            get("h", "/"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"query_parameters\":[{\"name\":\"u\",\"string_match\":{\"exact\":\"jason\"}}]}",
            get("h", "/p?a=1&u=jason&u=other"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"query_parameters\":[{\"name\":\"u\",\"string_match\":{\"exact\":\"other\"}}]}",
            get("h", "/p?a=1&u=jason&u=other"),
            false), // only the first value counts
        Arguments.of(
            "{\"prefix\":\"/\",\"query_parameters\":[{\"name\":\"debug\",\"present_match\":true}]}",
            get("h", "/p?debug"),
            true),
        Arguments.of(
            "{\"prefix\":\"/\",\"query_parameters\":[{\"name\":\"debug\",\"present_match\":true}]}",
            get("h", "/p?debugger=1"),
            false),
        Arguments.of("{\"prefix\":\"/\",\"grpc\":{}}", with(get("h", "/s/M"), "content-type", "application/grpc"), true),
        Arguments.of(
            "{\"prefix\":\"/\",\"grpc\":{}}", with(get("h", "/s/M"), "content-type", "application/grpc+proto"), true),
        Arguments.of(
            "{\"prefix\":\"/\",\"grpc\":{}}", with(get("h", "/s/M"), "content-type", "application/grpc-web"), false),
        Arguments.of("{\"prefix\":\"/\",\"grpc\":{}}", get("h", "/s/M"), false));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesLikeEnvoy(String match, Http2Headers request, boolean expected) {
    RouteTable t = routes("{\"match\":" + match + ",\"route\":{\"cluster\":\"c\"}}");
    assertThat(t.route(request, 0) != null).isEqualTo(expected);
  }

  @Test
  void firstMatchingRouteWins() {
    RouteTable t =
        routes(
            """
            {"name":"v2","match":{"prefix":"/","headers":[{"name":"end-user","string_match":{"exact":"jason"}}]},"route":{"cluster":"v2"}},
            {"name":"v1","match":{"prefix":"/"},"route":{"cluster":"v1"}},
            {"name":"never","match":{"prefix":"/x"},"route":{"cluster":"x"}}
            """);
    assertThat(t.route(with(get("h", "/x"), "end-user", "jason"), 0).name()).isEqualTo("v2");
    assertThat(t.route(get("h", "/x"), 0).name()).isEqualTo("v1");
  }

  @Test
  void runtimeFractionUsesTheRandomValue() {
    RouteTable t =
        routes(
            """
            {"name":"canary","match":{"prefix":"/","runtime_fraction":{"default_value":{"numerator":25,"denominator":"HUNDRED"},"runtime_key":"ignored"}},"route":{"cluster":"canary"}},
            {"name":"main","match":{"prefix":"/"},"route":{"cluster":"main"}}
            """);
    assertThat(t.route(get("h", "/"), 24).name()).isEqualTo("canary");
    assertThat(t.route(get("h", "/"), 25).name()).isEqualTo("main");
    assertThat(t.route(get("h", "/"), 124).name()).isEqualTo("canary");
    // The random value is unsigned as Envoy's uint64: (2^64 - 1) % 100 = 15.
    assertThat(t.route(get("h", "/"), -1L).name()).isEqualTo("canary");
  }

  @Test
  void connectMatcherMatchesConnectOnly() {
    RouteTable t =
        routes(
            """
            {"name":"tunnel","match":{"connect_matcher":{}},"route":{"cluster":"t"}},
            {"name":"rest","match":{"prefix":"/"},"route":{"cluster":"r"}}
            """);
    var connect = new io.netty.handler.codec.http2.DefaultHttp2Headers().method("CONNECT").authority("h:443");
    assertThat(t.route(connect, 0).name()).isEqualTo("tunnel");
    assertThat(t.route(get("h", "/"), 0).name()).isEqualTo("rest");
  }

  @Test
  void invalidRegexesNameTheirField() {
    assertThatThrownBy(
            () ->
                RouteTestSupport.table(
                    """
                    {"virtual_hosts":[
                      {"name":"a","domains":["a"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]},
                      {"name":"b","domains":["b"],"routes":[{"match":{"safe_regex":{"regex":"/(unclosed"}},"route":{"cluster":"c"}}]}]}
                    """))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("virtual_hosts[1].routes[0].match.safe_regex.regex: invalid regex")
        .extracting(e -> ((ConfigException) e).fieldPath())
        .isEqualTo("virtual_hosts[1].routes[0].match.safe_regex.regex");
    assertThatThrownBy(
            () ->
                routes(
                    "{\"match\":{\"prefix\":\"/\",\"headers\":[{\"name\":\"x\",\"string_match\":{\"safe_regex\":{\"regex\":\"[\"}}}]},\"route\":{\"cluster\":\"c\"}}"))
        .hasMessageStartingWith(
            "virtual_hosts[0].routes[0].match.headers[0].string_match.safe_regex.regex: invalid regex");
    assertThatThrownBy(
            () ->
                routes(
                    "{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\",\"regex_rewrite\":{\"pattern\":{\"regex\":\"(a)\"},\"substitution\":\"\\\\2\"}}}"))
        .hasMessageStartingWith("virtual_hosts[0].routes[0].route.regex_rewrite.substitution:");
    assertThatThrownBy(() -> routes("{\"match\":{\"prefix\":\"/\"}}"))
        .hasMessageStartingWith("virtual_hosts[0].routes[0]: action is required");
  }
}
