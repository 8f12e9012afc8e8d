package dev.sluice.bench;

import dev.sluice.router.RouteCompileContext;
import dev.sluice.router.RouteEntry;
import dev.sluice.router.RouteTable;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link RouteTable#route} on tables of {@code size} entries. {@code vhosts}: that many virtual hosts
 * with Istio-style domains (name, name:port, short forms), one route each, the request for the
 * last one. {@code prefix}, {@code header}, {@code regex}: one virtual host with that many routes
 * of that kind, the request matching only the last (Envoy matches routes in order, so this is the
 * worst case of a linear table).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouteMatchBenchmark {
  @Param({"1", "100", "10000"})
  public int size;

  @Param({"vhosts", "prefix", "header", "regex"})
  public String kind;

  private RouteTable table;
  private Http2Headers request;

  @Setup
  public void setUp() {
    int last = size - 1;
    RouteConfiguration config;
    if (kind.equals("vhosts")) {
      RouteConfiguration.Builder b = RouteConfiguration.newBuilder().setName("9080");
      for (int i = 0; i < size; i++) {
        String svc = "svc" + i;
        b.addVirtualHosts(VirtualHost.newBuilder().setName(svc + ".default.svc.cluster.local:9080")
            .addDomains(svc + ".default.svc.cluster.local").addDomains(svc + ".default.svc.cluster.local:9080")
            .addDomains(svc).addDomains(svc + ":9080").addDomains(svc + ".default").addDomains(svc + ".default:9080")
            .addRoutes(route(RouteMatch.newBuilder().setPrefix("/"), i)));
      }
      config = b.build();
      request = get("svc" + last + ".default.svc.cluster.local:9080", "/api/v1/items?id=42");
    } else {
      VirtualHost.Builder vh = VirtualHost.newBuilder().setName("vh").addDomains("*");
      for (int i = 0; i < size; i++) {
        RouteMatch.Builder m = RouteMatch.newBuilder();
        switch (kind) {
          case "prefix" -> m.setPrefix("/svc" + i + "/");
          case "header" -> m.setPrefix("/").addHeaders(HeaderMatcher.newBuilder().setName("x-tenant")
              .setStringMatch(StringMatcher.newBuilder().setExact("tenant-" + i)));
          case "regex" -> m.setSafeRegex(RegexMatcher.newBuilder().setRegex("/svc" + i + "/items/[0-9]+"));
          default -> throw new IllegalArgumentException(kind);
        }
        vh.addRoutes(route(m, i));
      }
      config = RouteConfiguration.newBuilder().setName("bench").addVirtualHosts(vh).build();
      request = switch (kind) {
        case "header" -> get("bench.local", "/items/42").add("x-tenant", "tenant-" + last);
        default -> get("bench.local", "/svc" + last + "/items/42");
      };
    }
    table = RouteTable.compile(config, RouteCompileContext.DEFAULT);
    RouteEntry hit = table.route(request, 0);
    if (hit == null) {
      throw new IllegalStateException("the benchmark request matches no route");
    }
  }

  @Benchmark
  public RouteEntry route() {
    return table.route(request, 0);
  }

  private static Route.Builder route(RouteMatch.Builder match, int i) {
    return Route.newBuilder().setName("r" + i).setMatch(match)
        .setRoute(RouteAction.newBuilder().setCluster("outbound|9080||svc" + i + ".default.svc.cluster.local"));
  }

  private static Http2Headers get(String authority, String path) {
    return new DefaultHttp2Headers().method("GET").scheme("http").authority(authority).path(path)
        .add("user-agent", "bench").add("accept", "*/*");
  }
}
