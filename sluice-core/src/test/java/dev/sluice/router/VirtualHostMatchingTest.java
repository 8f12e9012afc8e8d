package dev.sluice.router;

import static dev.sluice.router.RouteTestSupport.get;
import static dev.sluice.router.RouteTestSupport.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class VirtualHostMatchingTest {
  private static final String HOSTS =
      """
      {"name":"rc","virtual_hosts":[
        {"name":"exact","domains":["www.example.com"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]},
        {"name":"reviews","domains":["reviews","reviews:9080","reviews.default.svc.cluster.local:9080"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]},
        {"name":"suffix-short","domains":["*.example.com"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]},
        {"name":"suffix-long","domains":["*-bar.example.com"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]},
        {"name":"prefix","domains":["api.*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]},
        {"name":"default","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]}
      ]}
      """;

  @ParameterizedTest
  @CsvSource({
    "www.example.com, exact",
    "WWW.Example.COM, exact",
    "www.example.com:80, default", // the port is part of the host unless ignored
    "reviews, reviews",
    "reviews:9080, reviews",
    "reviews:9090, default",
    "reviews.default.svc.cluster.local:9080, reviews",
    "foo.example.com, suffix-short",
    "foo-bar.example.com, suffix-long",
    ".example.com, default", // a wildcard covers at least one character
    "api.other.org, prefix",
    "api., default",
    "unknown.org, default",
  })
  void picksVirtualHostLikeEnvoy(String authority, String expected) {
    RouteTable t = table(HOSTS);
    assertThat(t.findVirtualHost(get(authority, "/")).name()).isEqualTo(expected);
  }

  @Test
  void ignorePortInHostMatchingStripsThePort() {
    String json =
        """
        {"ignore_port_in_host_matching":true,"virtual_hosts":[
          {"name":"exact","domains":["www.example.com"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]},
          {"name":"v6","domains":["[::1]"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]}
        ]}
        """;
    RouteTable t = table(json);
    assertThat(t.findVirtualHost(get("www.example.com:8080", "/")).name()).isEqualTo("exact");
    assertThat(t.findVirtualHost(get("[::1]:443", "/")).name()).isEqualTo("v6");
    assertThat(t.findVirtualHost(get("[::1]", "/")).name()).isEqualTo("v6");
  }

  @Test
  void noVirtualHostAndNoRouteAreDistinguishable() {
    RouteTable t =
        table(
            """
            {"virtual_hosts":[{"name":"a","domains":["a.com"],"routes":[{"match":{"path":"/x"},"route":{"cluster":"c"}}]}]}
            """);
    assertThat(t.findVirtualHost(get("b.com", "/x"))).isNull();
    VirtualHostEntry a = t.findVirtualHost(get("a.com", "/y"));
    assertThat(a).isNotNull();
    assertThat(a.route(get("a.com", "/y"), 0)).isNull();
    assertThat(t.route(get("a.com", "/x"), 0).clusterName(get("a.com", "/x"), 0)).isEqualTo("c");
  }

  @Test
  void duplicateDomainsAreRejectedWithPath() {
    assertThatThrownBy(
            () ->
                table(
                    """
                    {"name":"rc","virtual_hosts":[
                      {"name":"a","domains":["a.com"],"routes":[]},
                      {"name":"b","domains":["x.com","A.com"],"routes":[]}]}
                    """))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("virtual_hosts[1].domains[1]: Only unique values for domains are permitted");
    assertThatThrownBy(
            () ->
                table(
                    """
                    {"virtual_hosts":[{"name":"a","domains":["*"]},{"name":"b","domains":["*"]}]}
                    """))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Only a single wildcard domain");
  }

  @Test
  void tenThousandVirtualHostsResolveByHash() {
    RouteConfiguration.Builder b = RouteConfiguration.newBuilder().setName("big");
    for (int i = 0; i < 10_000; i++) {
      b.addVirtualHosts(
          VirtualHost.newBuilder()
              .setName("vh" + i)
              .addDomains("svc-" + i + ".ns.svc.cluster.local")
              .addDomains("svc-" + i + ".ns.svc.cluster.local:8080")
              .addRoutes(
                  Route.newBuilder()
                      .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                      .setRoute(RouteAction.newBuilder().setCluster("outbound|8080||svc-" + i))));
    }
    b.addVirtualHosts(
        VirtualHost.newBuilder()
            .setName("wild")
            .addDomains("*.wild.example")
            .addRoutes(
                Route.newBuilder()
                    .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                    .setRoute(RouteAction.newBuilder().setCluster("wild"))));
    RouteTable t = RouteTable.compile(b.build(), RouteCompileContext.DEFAULT);
    for (int i = 0; i < 10_000; i += 37) {
      var h = get("svc-" + i + ".ns.svc.cluster.local:8080", "/anything");
      assertThat(cluster(t, h)).isEqualTo("outbound|8080||svc-" + i);
    }
    assertThat(cluster(t, get("SVC-9999.NS.svc.cluster.local", "/"))).isEqualTo("outbound|8080||svc-9999");
    assertThat(cluster(t, get("x.wild.example", "/"))).isEqualTo("wild");
    assertThat(t.findVirtualHost(get("svc-10000.ns.svc.cluster.local", "/"))).isNull();
  }

  private static @Nullable String cluster(RouteTable t, io.netty.handler.codec.http2.Http2Headers h) {
    RouteEntry e = t.route(h, 0);
    return e == null ? null : e.clusterName(h, 0);
  }
}
