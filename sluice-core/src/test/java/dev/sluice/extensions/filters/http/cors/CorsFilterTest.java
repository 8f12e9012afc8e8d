package dev.sluice.extensions.filters.http.cors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.ExtensionRegistry;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterCallbacks;
import dev.sluice.api.http.Route;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.router.RouteCompileContext;
import dev.sluice.router.RouteTable;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.concurrent.EventExecutor;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class CorsFilterTest {
  private static final String STAT_PREFIX = "http.ingress.";
  private final StatsStore stats = new StatsStore();

  /** Compiles typed CorsPolicy entries (and the legacy cors fields) as the connection manager will. */
  private static final RouteCompileContext CTX =
      new RouteCompileContext() {
        @Override
        public Object compileFilterConfig(String filterName, Any config, String fieldPath) {
          try {
            return CorsFilterFactory.compilePolicy(config.unpack(CorsPolicy.class));
          } catch (InvalidProtocolBufferException e) {
            throw new ConfigException(fieldPath, e.getMessage());
          }
        }
      };

  private static Route route(String routeConfigJson) {
    RouteConfiguration.Builder b = RouteConfiguration.newBuilder();
    try {
      JsonFormat.parser()
          .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder().add(CorsPolicy.getDescriptor()).build())
          .merge(routeConfigJson, b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(e);
    }
    Http2Headers any = new DefaultHttp2Headers().method("GET").authority("h").path("/");
    return RouteTable.compile(b.build(), CTX).route(any, 0);
  }

  private static final String TYPED =
      """
      {"virtual_hosts":[{"name":"vh","domains":["*"],
        "typed_per_filter_config":{"envoy.filters.http.cors":{"@type":"type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
           "allow_origin_string_match":[{"exact":"https://app.example"}],
           "allow_methods":"GET, POST","allow_headers":"content-type,x-custom","max_age":"600",
           "expose_headers":"x-vhost-exposed"}},
        "routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"},
          "typed_per_filter_config":{"envoy.filters.http.cors":{"@type":"type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
             "allow_credentials":true,"expose_headers":"x-route-exposed"%s}}}]}]}
      """;

  /** A filter manager stand-in: records the local reply and, as Envoy's sendLocalReply, encodes it through the filter. */
  private final class Callbacks implements HttpFilterCallbacks {
    final @Nullable Route route;
    @Nullable HttpFilter filter;
    @Nullable Http2Headers localReply;
    @Nullable String localReplyDetails;

    Callbacks(@Nullable Route route) {
      this.route = route;
    }

    @Override
    public @Nullable Route route() {
      return route;
    }

    @Override
    public void sendLocalReply(int status, String body, @Nullable ResponseFlag flag, String details) {
      Http2Headers h = new DefaultHttp2Headers().status(Integer.toString(status));
      filter.encodeHeaders(h, true);
      localReply = h;
      localReplyDetails = details;
    }

    @Override
    public StreamInfo streamInfo() {
      throw new UnsupportedOperationException();
    }

    @Override
    public DownstreamConnection connection() {
      throw new UnsupportedOperationException();
    }

    @Override
    public EventExecutor eventLoop() {
      throw new UnsupportedOperationException();
    }

    @Override
    public void clearRouteCache() {}

    @Override
    public void continueDecoding() {}

    @Override
    public void continueEncoding() {}

    @Override
    public void resetStream() {}
  }

  private final class Context implements FactoryContext {
    @Override
    public StatsScope stats() {
      return stats;
    }

    @Override
    public ClusterManager clusterManager() {
      throw new UnsupportedOperationException();
    }

    @Override
    public ExtensionRegistry extensions() {
      throw new UnsupportedOperationException();
    }

    @Override
    public AccessLogger accessLogger(List<AccessLog> configs) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int concurrency() {
      return 1;
    }

    @Override
    public Node localNode() {
      return Node.getDefaultInstance();
    }

    @Override
    public ScheduledExecutorService controlExecutor() {
      throw new UnsupportedOperationException();
    }

    @Override
    public String listenerName() {
      return "";
    }

    @Override
    public String trafficDirection() {
      return "UNSPECIFIED";
    }
  }

  private Callbacks run(Route route, LongSupplier random, Http2Headers request, FilterStatus expected) {
    HttpFilter filter = new CorsFilterFactory(random).create(Cors.getDefaultInstance(), STAT_PREFIX, new Context()).get();
    Callbacks cb = new Callbacks(route);
    cb.filter = filter;
    filter.setCallbacks(cb);
    assertThat(filter.decodeHeaders(request, true)).isEqualTo(expected);
    return cb;
  }

  private long counter(String name) {
    return stats.counter(STAT_PREFIX + "cors." + name).value();
  }

  private static Http2Headers preflight(String origin) {
    return new DefaultHttp2Headers()
        .method("OPTIONS")
        .authority("h")
        .path("/")
        .set("origin", origin)
        .set("access-control-request-method", "POST");
  }

  @Test
  void preflightWithAllowedOriginIsAnsweredLocally() {
    Callbacks cb = run(route(TYPED.formatted("")), () -> 0, preflight("https://app.example"), FilterStatus.STOP_ITERATION);
    assertThat(cb.localReplyDetails).isEqualTo("cors_response");
    Http2Headers r = cb.localReply;
    assertThat(r.status().toString()).isEqualTo("200");
    assertThat(r.get("access-control-allow-origin").toString()).isEqualTo("https://app.example");
    assertThat(r.get("access-control-allow-credentials").toString()).isEqualTo("true"); // from the route
    assertThat(r.get("access-control-allow-methods").toString()).isEqualTo("GET, POST"); // from the vhost
    assertThat(r.get("access-control-allow-headers").toString()).isEqualTo("content-type,x-custom");
    assertThat(r.get("access-control-max-age").toString()).isEqualTo("600");
    assertThat(counter("origin_valid")).isEqualTo(1);
  }

  @Test
  void preflightWithOtherOriginIsForwardedByDefault() {
    Callbacks cb = run(route(TYPED.formatted("")), () -> 0, preflight("https://evil.example"), FilterStatus.CONTINUE);
    assertThat(cb.localReply).isNull();
    assertThat(counter("origin_invalid")).isEqualTo(1);
  }

  @Test
  void preflightWithOtherOriginIsAnsweredWithoutAllowHeadersWhenNotForwarded() {
    Callbacks cb =
        run(
            route(TYPED.formatted(",\"forward_not_matching_preflights\":false")),
            () -> 0,
            preflight("https://evil.example"),
            FilterStatus.STOP_ITERATION);
    assertThat(cb.localReply.status().toString()).isEqualTo("200");
    assertThat(cb.localReply.contains("access-control-allow-origin")).isFalse();
  }

  @Test
  void actualRequestGetsAllowOriginCredentialsAndExposeHeaders() {
    Http2Headers request = new DefaultHttp2Headers().method("GET").authority("h").path("/").set("origin", "https://app.example");
    HttpFilter filter = new CorsFilterFactory(() -> 0).create(Cors.getDefaultInstance(), STAT_PREFIX, new Context()).get();
    Callbacks cb = new Callbacks(route(TYPED.formatted("")));
    cb.filter = filter;
    filter.setCallbacks(cb);
    assertThat(filter.decodeHeaders(request, true)).isEqualTo(FilterStatus.CONTINUE);
    Http2Headers response = new DefaultHttp2Headers().status("200");
    filter.encodeHeaders(response, false);
    assertThat(response.get("access-control-allow-origin").toString()).isEqualTo("https://app.example");
    assertThat(response.get("access-control-allow-credentials").toString()).isEqualTo("true");
    assertThat(response.get("access-control-expose-headers").toString()).isEqualTo("x-route-exposed");
    assertThat(response.contains("access-control-allow-methods")).isFalse();
  }

  @Test
  void requestWithDisallowedOriginIsLeftAlone() {
    Http2Headers request = new DefaultHttp2Headers().method("GET").authority("h").path("/").set("origin", "https://evil.example");
    HttpFilter filter = new CorsFilterFactory(() -> 0).create(Cors.getDefaultInstance(), STAT_PREFIX, new Context()).get();
    filter.setCallbacks(new Callbacks(route(TYPED.formatted(""))));
    filter.decodeHeaders(request, true);
    Http2Headers response = new DefaultHttp2Headers().status("200");
    filter.encodeHeaders(response, false);
    assertThat(response.contains("access-control-allow-origin")).isFalse();
  }

  @Test
  void filterEnabledAndShadowFractions() {
    String config =
        TYPED.formatted(
            ",\"filter_enabled\":{\"default_value\":{\"numerator\":50}},\"shadow_enabled\":{\"default_value\":{\"numerator\":100}}");
    Route r = route(config);
    // random 70 % 100 >= 50: disabled, but shadow counts the origin without acting.
    Callbacks shadow = run(r, () -> 70, preflight("https://app.example"), FilterStatus.CONTINUE);
    assertThat(shadow.localReply).isNull();
    assertThat(counter("origin_valid")).isEqualTo(1);
    Callbacks enabled = run(r, () -> 10, preflight("https://app.example"), FilterStatus.STOP_ITERATION);
    assertThat(enabled.localReply).isNotNull();
  }

  @Test
  void legacyCorsFieldsApplyWhenNoTypedConfigExists() {
    Route r =
        route(
            """
            {"virtual_hosts":[{"name":"vh","domains":["*"],
              "cors":{"allow_origin_string_match":[{"safe_regex":{"regex":"https://.*\\\\.example"}}],"allow_methods":"*"},
              "routes":[{"match":{"prefix":"/"},"route":{"cluster":"c","cors":{"max_age":"60"}}}]}]}
            """);
    Callbacks cb = run(r, () -> 0, preflight("https://ui.example"), FilterStatus.STOP_ITERATION);
    assertThat(cb.localReply.get("access-control-allow-origin").toString()).isEqualTo("https://ui.example");
    assertThat(cb.localReply.get("access-control-allow-methods").toString()).isEqualTo("POST"); // "*" echoes the request
    assertThat(cb.localReply.get("access-control-max-age").toString()).isEqualTo("60");
  }

  @Test
  void noRouteOrNoPolicyPassesThrough() {
    run(null, () -> 0, preflight("https://app.example"), FilterStatus.CONTINUE);
    Route plain =
        route("{\"virtual_hosts\":[{\"name\":\"vh\",\"domains\":[\"*\"],\"routes\":[{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\"}}]}]}");
    Callbacks cb = run(plain, () -> 0, preflight("https://app.example"), FilterStatus.CONTINUE);
    assertThat(cb.localReply).isNull();
    assertThat(counter("origin_valid") + counter("origin_invalid")).isZero();
  }

  @Test
  void factoryDescribesTheExtension() {
    CorsFilterFactory f = new CorsFilterFactory();
    assertThat(f.name()).isEqualTo("envoy.filters.http.cors");
    assertThat(f.typeUrl()).isEqualTo("type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors");
    assertThatThrownBy(() -> CorsFilterFactory.compilePolicy(Cors.getDefaultInstance()))
        .isInstanceOf(ConfigException.class);
    assertThatThrownBy(
            () ->
                CorsFilterFactory.compilePolicy(
                    CorsPolicy.newBuilder()
                        .addAllowOriginStringMatch(
                            io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder()
                                .setSafeRegex(io.envoyproxy.envoy.type.matcher.v3.RegexMatcher.newBuilder().setRegex("(")))
                        .build()))
        .hasMessageStartingWith("allow_origin_string_match[0].safe_regex.regex: invalid regex");
  }
}
