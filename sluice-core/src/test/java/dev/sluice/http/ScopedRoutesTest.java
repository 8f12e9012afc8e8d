package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.api.config.ConfigException;
import dev.sluice.config.ConfigText;
import dev.sluice.config.ProtoTypes;
import dev.sluice.router.RouteCompileContext;
import dev.sluice.router.RouteTable;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The scope key builder (Envoy's header value extraction) and scope selection, without a server. */
class ScopedRoutesTest {

  private static ScopedRoutes.ScopeKeyBuilder builder(String yaml) {
    ScopedRoutes.ScopeKeyBuilder.Builder b = ScopedRoutes.ScopeKeyBuilder.newBuilder();
    try {
      ProtoTypes.get().parser(false).merge(ConfigText.read(yaml, true).toString(), b);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    return b.build();
  }

  private static ScopeKeyBuilder keys(String yaml) {
    return ScopeKeyBuilder.compile(builder(yaml), "scope_key_builder");
  }

  private static Http2Headers headers(String... nameValues) {
    Http2Headers h = new DefaultHttp2Headers().method("GET").path("/").authority("h");
    for (int i = 0; i < nameValues.length; i += 2) {
      h.add(nameValues[i], nameValues[i + 1]);
    }
    return h;
  }

  private static ScopeKey key(String... fragments) {
    return new ScopeKey(List.of(fragments));
  }

  @Test
  void wholeHeaderValueWithoutSeparator() {
    ScopeKeyBuilder k = keys("fragments: [{header_value_extractor: {name: X-Tenant}}]");
    assertThat(k.key(headers("x-tenant", "acme"))).isEqualTo(key("acme"));
    assertThat(k.key(headers("x-tenant", "a;b"))).isEqualTo(key("a;b"));
    assertThat(k.key(headers("other", "acme"))).isNull();
  }

  @Test
  void elementByIndex() {
    ScopeKeyBuilder k = keys("fragments: [{header_value_extractor: {name: x-route, element_separator: ';', index: 1}}]");
    assertThat(k.key(headers("x-route", "a;b;c"))).isEqualTo(key("b"));
    assertThat(k.key(headers("x-route", "a;;c"))).isEqualTo(key(""));
    assertThat(k.key(headers("x-route", "a"))).as("index past the last element").isNull();
  }

  @Test
  void elementByKeyFirstMatchWins() {
    ScopeKeyBuilder k = keys("""
        fragments: [{header_value_extractor: {name: x-route, element_separator: ',', element: {key: vip, separator: '='}}}]
        """);
    assertThat(k.key(headers("x-route", "foo=1,vip=172.10.10.20,vip=2"))).isEqualTo(key("172.10.10.20"));
    assertThat(k.key(headers("x-route", ",,vip"))).as("an element without separator is all key").isEqualTo(key(""));
    assertThat(k.key(headers("x-route", "foo=1"))).isNull();
    // Several header values are joined with commas before splitting.
    assertThat(k.key(headers("x-route", "foo=1", "x-route", "vip=9"))).isEqualTo(key("9"));
  }

  @Test
  void everyFragmentMustBeExtracted() {
    ScopeKeyBuilder k = keys("""
        fragments:
        - header_value_extractor: {name: x-a}
        - header_value_extractor: {name: x-b, element_separator: '/', index: 0}
        """);
    assertThat(k.key(headers("x-a", "1", "x-b", "2/3"))).isEqualTo(key("1", "2"));
    assertThat(k.key(headers("x-a", "1"))).isNull();
  }

  @Test
  void badBuildersNameTheField() {
    assertThatThrownBy(() -> keys("fragments: []")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("scope_key_builder.fragments");
    assertThatThrownBy(() -> keys("fragments: [{header_value_extractor: {name: x, index: 2}}]"))
        .hasMessageContaining("scope_key_builder.fragments[0].header_value_extractor.index");
    assertThatThrownBy(() -> keys("fragments: [{header_value_extractor: {name: x, element: {key: k}}}]"))
        .hasMessageContaining("header_value_extractor.element.separator");
  }

  private static ScopedRouteConfiguration scope(String name, String key, String routeName) {
    return ScopedRouteConfiguration.newBuilder().setName(name).setRouteConfiguration(
            RouteConfiguration.newBuilder().setName(routeName))
        .setKey(ScopedRouteConfiguration.Key.newBuilder().addFragments(
            ScopedRouteConfiguration.Key.Fragment.newBuilder().setStringKey(key))).build();
  }

  @Test
  void selectsTheScopeOfTheKeyAndKeepsAPublishedSetForOldStreams() {
    ScopedRoutesRegistry registry = new ScopedRoutesRegistry(null);
    ScopedRoutesProvider provider = registry.inline("s", keys("fragments: [{header_value_extractor: {name: x-t}}]"),
        RouteCompileContext.DEFAULT, List.of(scope("a", "1", "ra"), scope("b", "2", "rb")));
    ScopedRouteTables first = provider.scopes();
    RouteTable a = first.select(headers("x-t", "1"));
    assertThat(a).isNotNull();
    assertThat(a.name()).isEqualTo("ra");
    assertThat(first.select(headers("x-t", "2")).name()).isEqualTo("rb");
    assertThat(first.select(headers("x-t", "3"))).as("no scope for the key").isNull();
    assertThat(first.select(headers())).as("no key").isNull();
    assertThat(provider.current()).isNull();
  }

  @Test
  void srdsUpdatesPublishToEveryProviderAndDuplicateKeysAreRefused() {
    ScopedRoutesRegistry registry = new ScopedRoutesRegistry(new RdsRouteConfigRegistry());
    ScopeKeyBuilder k = keys("fragments: [{header_value_extractor: {name: x-t}}]");
    ScopedRoutesProvider p1 = registry.provider("s", k, RouteCompileContext.DEFAULT);
    registry.update("s", Map.of("a", scope("a", "1", "ra")));
    ScopedRoutesProvider p2 = registry.provider("s", k, RouteCompileContext.DEFAULT);
    assertThat(p1.scopes().select(headers("x-t", "1")).name()).isEqualTo("ra");
    assertThat(p2.scopes().select(headers("x-t", "1")).name()).as("a later provider starts from the last set").isEqualTo("ra");

    ScopedRouteTables before = p1.scopes();
    assertThatThrownBy(() -> registry.update("s", Map.of("a", scope("a", "1", "ra"), "b", scope("b", "1", "rb"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("scope key conflict");
    assertThat(p1.scopes()).as("a refused set leaves the previous one").isSameAs(before);
  }

  @Test
  void scopeNamingAnRdsRouteConfigurationFollowsIt() {
    RdsRouteConfigRegistry rds = new RdsRouteConfigRegistry();
    ScopedRoutesProvider p = rds.scopedRoutes().provider("s", keys("fragments: [{header_value_extractor: {name: x-t}}]"),
        RouteCompileContext.DEFAULT);
    rds.scopedRoutes().update("s", Map.of("a", ScopedRouteConfiguration.newBuilder().setName("a")
        .setRouteConfigurationName("ra").setKey(ScopedRouteConfiguration.Key.newBuilder().addFragments(
            ScopedRouteConfiguration.Key.Fragment.newBuilder().setStringKey("1"))).build()));
    ScopedRouteTables tables = p.scopes();
    assertThat(tables.select(headers("x-t", "1"))).as("route configuration not arrived yet").isNull();
    rds.update(RouteConfiguration.newBuilder().setName("ra").build());
    assertThat(tables.select(headers("x-t", "1")).name()).isEqualTo("ra");
  }

  @Test
  void scopeChecksNameTheField() {
    assertThatThrownBy(() -> ScopedRoutesProvider.check(ScopedRouteConfiguration.newBuilder().setName("a")
        .setRouteConfigurationName("r").build())).hasMessageContaining("key.fragments");
    assertThatThrownBy(() -> ScopedRoutesProvider.check(scope("a", "1", "r").toBuilder().setRouteConfigurationName("r").build()))
        .hasMessageContaining("route_configuration_name");
  }
}
