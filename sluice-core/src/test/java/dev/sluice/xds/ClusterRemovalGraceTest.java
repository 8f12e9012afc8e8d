package dev.sluice.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.BlockingFilterFactory;
import dev.sluice.testing.TestBackend;
import dev.sluice.testing.TestControlPlane;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A request that started on a route table naming cluster A is still served by A when, before it
 * is routed, RDS moves the route to B and CDS removes A: the workers' map drops a removed cluster
 * only after every worker has finished the task it was running (a grace period), as Envoy, whose
 * workers take route and cluster updates on their own threads, in order. Without it the request
 * got 503 "cluster not found" (the rare failure of {@link XdsLoadTest}). A test filter holds the
 * worker between the start of the request and its routing while the control plane makes the change.
 */
class ClusterRemovalGraceTest {
  private static final String GROUP = "sidecar";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
  private TestControlPlane controlPlane;
  private Server server;
  private TestBackend a;
  private TestBackend b;

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {server, controlPlane, a, b}) {
      if (c != null) {
        c.close();
      }
    }
  }

  @Test
  void aRequestRoutedOnTheTableItStartedWithFindsTheClusterRemovedMeanwhile() throws Exception {
    a = new TestBackend("a");
    b = new TestBackend("b");
    snapshot("1", "A", a.port(), b.port());
    controlPlane = TestControlPlane.start(cache, TestControlPlane.Service.ADS);
    server = TestServers.start(TestServers.bootstrap("""
        node: {id: sidecar~127.0.0.1~grace~default, cluster: grace}
        admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
        static_resources:
          clusters:
          - name: xds-grpc
            type: STATIC
            connect_timeout: 1s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: xds-grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
        dynamic_resources:
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]
          cds_config: {ads: {}, resource_api_version: V3}
          lds_config: {ads: {}, resource_api_version: V3}
        """.formatted(controlPlane.port())), TestServers.options(2, Duration.ofSeconds(1)));
    HttpClient http = HttpClient.newHttpClient();
    assertThat(get(http, "/").body()).isEqualTo("ok GET /");
    assertThat(get(http, "/").headers().firstValue("x-backend")).contains("a");

    // A request starts (its route table names A) and is held before the router sees it.
    BlockingFilterFactory.Gate gate = BlockingFilterFactory.arm();
    CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> {
      try {
        return get(http, BlockingFilterFactory.PATH);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(gate.entered().await(20, TimeUnit.SECONDS)).isTrue();

    // The route moves to B and A goes, in one push; the proxy applies both and removes A.
    snapshot("2", "B", a.port(), b.port());
    await().atMost(WAIT).until(() -> server.stats().counter("cluster_manager.cluster_removed").value() == 1
        && server.stats().counter("http.ingress.rds.local.update_success").value() == 2);

    gate.release().countDown();
    HttpResponse<String> r = held.get(20, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as("the held request, routed on its table to A").isEqualTo(200);
    assertThat(r.headers().firstValue("x-backend")).contains("a");
    // New requests go to B, and A leaves the workers' map once the held worker has moved on.
    assertThat(get(http, "/").headers().firstValue("x-backend")).contains("b");
    await().atMost(WAIT).until(() -> server.stats().gauge("cluster_manager.active_clusters").value() == 2);
  }

  private HttpResponse<String> get(HttpClient http, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.listenerPort("http") + path))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Version {@code version}: the route goes to {@code routed}; cluster B always exists, A only while routed to. */
  private void snapshot(String version, String routed, int aPort, int bPort) {
    List<Cluster> clusters = routed.equals("A") ? List.of(cluster("A"), cluster("B")) : List.of(cluster("B"));
    List<ClusterLoadAssignment> endpoints = routed.equals("A")
        ? List.of(endpoints("A", aPort), endpoints("B", bPort)) : List.of(endpoints("B", bPort));
    RouteConfiguration routes = RouteConfiguration.newBuilder().setName("local")
        .addVirtualHosts(VirtualHost.newBuilder().setName("all").addDomains("*")
            .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(RouteAction.newBuilder().setCluster(routed))))
        .build();
    cache.setSnapshot(GROUP, Snapshot.create(clusters, endpoints, List.of(listener()), List.of(routes), List.of(), version));
  }

  private static ConfigSource ads() {
    return ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3).build();
  }

  private static Cluster cluster(String name) {
    return Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS)
        .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads())).build();
  }

  private static ClusterLoadAssignment endpoints(String cluster, int port) {
    return ClusterLoadAssignment.newBuilder().setClusterName(cluster)
        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
            .setEndpoint(Endpoint.newBuilder().setAddress(address(port))))).build();
  }

  private static Address address(int port) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(port)).build();
  }

  private static Listener listener() {
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setStatPrefix("ingress")
        .setRds(Rds.newBuilder().setRouteConfigName("local").setConfigSource(ads()))
        .addHttpFilters(HttpFilter.newBuilder().setName("test.block_worker").setTypedConfig(BlockingFilterFactory.config()))
        .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router")
            .setTypedConfig(Any.pack(Router.getDefaultInstance())))
        .build();
    return Listener.newBuilder().setName("http").setAddress(address(0))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm))))
        .build();
  }
}
