package dev.sluice.router;

import static dev.sluice.router.RouteTestSupport.get;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.netty.handler.codec.http2.Http2Headers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Istio's real ingress-gateway route configurations for Bookinfo compile and route as Envoy would. */
class IstioRouteConfigsTest {
  private static final Path DUMPS = Path.of("/work/shared/istio/config-dumps");
  private static final String PRODUCTPAGE = "outbound|9080||productpage.default.svc.cluster.local";

  /** The RouteConfigurations of a config dump (other sections hold Istio types we do not parse here). */
  static List<RouteConfiguration> routeConfigs(Path file) throws Exception {
    JsonFormat.Parser parser =
        JsonFormat.parser()
            .ignoringUnknownFields()
            .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder().add(RouteConfiguration.getDescriptor()).build());
    List<RouteConfiguration> out = new ArrayList<>();
    for (JsonElement config : JsonParser.parseString(Files.readString(file)).getAsJsonObject().getAsJsonArray("configs")) {
      String type = config.getAsJsonObject().get("@type").getAsString();
      if (type.endsWith("envoy.admin.v3.RoutesConfigDump")) {
        config.getAsJsonObject().remove("@type");
        RoutesConfigDump.Builder dump = RoutesConfigDump.newBuilder();
        parser.merge(config.toString(), dump);
        for (var dynamic : dump.getDynamicRouteConfigsList()) {
          out.add(dynamic.getRouteConfig().unpack(RouteConfiguration.class));
        }
        for (var stat : dump.getStaticRouteConfigsList()) {
          out.add(stat.getRouteConfig().unpack(RouteConfiguration.class));
        }
      }
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ingressgw-bookinfo-http-rds-cds_istioctl-describe-http_config.json",
        "ingressgw-bookinfo-https-rds_istioctl-describe-tls_config.json"
      })
  void bookinfoGatewayRoutesResolve(String file) throws Exception {
    List<RouteConfiguration> configs = routeConfigs(DUMPS.resolve(file));
    assertThat(configs).isNotEmpty();
    for (RouteConfiguration config : configs) {
      RouteTable table = RouteTable.compile(config, RouteCompileContext.DEFAULT);
      for (String path : List.of("/productpage", "/productpage?u=normal", "/static/bootstrap.css", "/login", "/logout", "/api/v1/products/0/reviews")) {
        Http2Headers h = get("bookinfo.example.com:8080", path);
        RouteEntry e = table.route(h, 0);
        assertThat(e).as(path).isNotNull();
        assertThat(e.clusterName(h, 0)).as(path).isEqualTo(PRODUCTPAGE);
        // Istio disables the route timeout ("0s") and keeps its retry policy.
        assertThat(e.timeout()).isZero();
        assertThat(e.retryPolicy().numRetries()).isEqualTo(2);
        assertThat(e.decoratorOperation()).startsWith("productpage.default.svc.cluster.local:9080/");
        assertThat(e.metadata().getFilterMetadataOrThrow("istio").getFieldsOrThrow("config").getStringValue())
            .endsWith("/virtual-service/bookinfo");
      }
      assertThat(table.route(get("bookinfo.example.com", "/productpage/extra"), 0)).isNull();
      assertThat(table.route(get("bookinfo.example.com", "/reviews"), 0)).isNull();
      assertThat(table.findVirtualHost(get("anything", "/"))).isNotNull();
    }
  }
}
