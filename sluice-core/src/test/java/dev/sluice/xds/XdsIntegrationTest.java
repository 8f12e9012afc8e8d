package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.ads;
import static dev.sluice.testing.XdsProtos.edsCluster;
import static dev.sluice.testing.XdsProtos.oneEndpoint;
import static dev.sluice.testing.XdsProtos.rdsListener;
import static dev.sluice.testing.XdsProtos.routeToCluster;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Any;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.AdsBootstrap;
import dev.sluice.testing.TestBackend;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestControlPlane.Service;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The xDS client against java-control-plane's real ADS server ({@link V3DiscoveryServer} over a
 * {@link SimpleCache}) on a port-0 gRPC server: a full Sluice server bootstrapped with only the
 * {@code xds-grpc} cluster gets its clusters, endpoints, listener and routes over ADS (state of the
 * world and delta), serves requests to a real backend, follows changes, NACKs a bad cluster while
 * applying the good one, and survives a control-plane restart.
 */
class XdsIntegrationTest {
  private static final String GROUP = "sidecar";
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  private final SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private TestControlPlane controlPlane;

  @AfterEach
  void stop() throws Exception {
    if (controlPlane != null) {
      controlPlane.close();
    }
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }

  private int startControlPlane(int port) throws Exception {
    controlPlane = TestControlPlane.startOn(port, cache, Service.ADS);
    return controlPlane.port();
  }

  private TestBackend backend(String name) throws Exception {
    TestBackend b = new TestBackend(name);
    closeables.add(b);
    return b;
  }

  private Server start(String apiType, AdsBootstrap bootstrap) {
    Server s = TestServers.start(bootstrap.apiType(apiType).nodeOnFirstMessageOnly().yaml());
    closeables.add(s);
    return s;
  }

  /** The listener {@code name} (stat prefix {@code ingress_<name>}) taking {@code routeName} over RDS. */
  private static Listener listener(String name, String routeName) {
    return rdsListener(name, "ingress_" + name, routeName);
  }

  private void snapshot(String version, List<Cluster> clusters, List<ClusterLoadAssignment> endpoints,
      List<Listener> listeners, List<RouteConfiguration> routes) {
    cache.setSnapshot(GROUP, Snapshot.create(clusters, endpoints, listeners, routes, List.of(), version));
  }

  private HttpResponse<String> get(Server s, String listener, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.listenerPort(listener) + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static long counter(Server s, String name) {
    return s.stats().counter(name).value();
  }

  private static long gauge(Server s, String name) {
    return s.stats().gauge(name).value();
  }

  // ---- tests ----

  @ParameterizedTest
  @ValueSource(strings = {"GRPC", "DELTA_GRPC"})
  void initialLoadServesThroughDynamicListenerRoutesAndEndpoints(String apiType) throws Exception {
    TestBackend a = backend("a");
    snapshot("1", List.of(edsCluster("backend", "backend-svc")), List.of(oneEndpoint("backend-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    Server s = start(apiType, AdsBootstrap.toPort(startControlPlane(0)));

    HttpResponse<String> r = get(s, "http", "/hello");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("/hello");
    assertThat(a.requests.get()).isEqualTo(1);
    assertThat(gauge(s, "control_plane.connected_state")).isEqualTo(1);
    assertThat(counter(s, "cluster_manager.cds.update_success")).isGreaterThanOrEqualTo(1);
    assertThat(counter(s, "listener_manager.lds.update_success")).isGreaterThanOrEqualTo(1);
    assertThat(counter(s, "cluster.backend.update_success")).isGreaterThanOrEqualTo(1);
    assertThat(gauge(s, "cluster_manager.cds.version")).isEqualTo(SubscriptionStats.hash("1"));
    assertThat(gauge(s, "cluster.backend.version")).isEqualTo(SubscriptionStats.hash("1"));
    // The route configuration "local" arrives only once the listener naming it (and its stats) exists.
    assertThat(counter(s, "http.ingress_http.rds.local.update_attempt")).isGreaterThanOrEqualTo(1);
    assertThat(counter(s, "http.ingress_http.rds.local.update_success")).isGreaterThanOrEqualTo(1);
    assertThat(counter(s, "http.ingress_http.rds.local.config_reload")).isEqualTo(1);
    assertThat(gauge(s, "http.ingress_http.rds.local.version")).isEqualTo(SubscriptionStats.hash("1"));
    // No request for a named type went out without names (a legacy wildcard asking for everything).
    Set<String> named = Set.of(XdsResourceType.ROUTE.typeUrl(), XdsResourceType.ENDPOINT.typeUrl());
    assertThat(controlPlane.requests).noneMatch(q -> named.contains(q.getTypeUrl()) && q.getResourceNamesCount() == 0);
    assertThat(controlPlane.deltaRequests).noneMatch(q -> named.contains(q.getTypeUrl()) && q.getResponseNonce().isEmpty()
        && q.getResourceNamesSubscribeCount() == 0);
    // The first request of the stream carried the node; later ones did not (set_node_on_first_message_only).
    if (apiType.equals("GRPC")) {
      assertThat(controlPlane.requests.peek().hasNode()).isTrue();
      assertThat(controlPlane.requests.stream().skip(1).noneMatch(DiscoveryRequest::hasNode)).isTrue();
      assertThat(controlPlane.requests).anySatisfy(q -> {
        assertThat(q.getTypeUrl()).isEqualTo(XdsResourceType.ENDPOINT.typeUrl());
        assertThat(q.getResourceNamesList()).containsExactly("backend-svc");
      });
    } else {
      assertThat(controlPlane.deltaRequests.peek().hasNode()).isTrue();
      assertThat(controlPlane.deltaRequests).anySatisfy(q -> {
        assertThat(q.getTypeUrl()).isEqualTo(XdsResourceType.ROUTE.typeUrl());
        assertThat(q.getResourceNamesSubscribeList()).containsExactly("local");
      });
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"GRPC", "DELTA_GRPC"})
  void followsChangesOfEndpointsRoutesClustersAndListeners(String apiType) throws Exception {
    TestBackend a = backend("a");
    TestBackend b = backend("b");
    snapshot("1", List.of(edsCluster("backend", "backend-svc")), List.of(oneEndpoint("backend-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    Server s = start(apiType, AdsBootstrap.toPort(startControlPlane(0)));
    assertThat(get(s, "http", "/").statusCode()).isEqualTo(200);

    // EDS: the service's endpoint moves to b.
    snapshot("2", List.of(edsCluster("backend", "backend-svc")), List.of(oneEndpoint("backend-svc", b.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    await().atMost(WAIT).until(() -> get(s, "http", "/").statusCode() == 200 && b.requests.get() > 0);

    // CDS + RDS: a second cluster, and the route switches to it.
    snapshot("3", List.of(edsCluster("backend", "backend-svc"), edsCluster("other", "other-svc")),
        List.of(oneEndpoint("backend-svc", b.port()), oneEndpoint("other-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "other")));
    int before = a.requests.get();
    await().atMost(WAIT).until(() -> get(s, "http", "/").statusCode() == 200 && a.requests.get() > before);
    assertThat(gauge(s, "cluster_manager.active_clusters")).isEqualTo(3); // xds-grpc, backend, other

    // LDS: a second listener appears; then the first one and the cluster "backend" go away.
    snapshot("4", List.of(edsCluster("other", "other-svc")), List.of(oneEndpoint("other-svc", a.port())),
        List.of(listener("http2", "local")), List.of(routeToCluster("local", "other")));
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(counter(s, "cluster_manager.cluster_removed")).isEqualTo(1);
      assertThat(counter(s, "listener_manager.listener_removed")).isEqualTo(1);
    });
    assertThat(get(s, "http2", "/").statusCode()).isEqualTo(200);
    assertThatThrownBy(() -> s.listenerPort("http")).isInstanceOf(IllegalStateException.class);
    assertThat(gauge(s, "cluster_manager.active_clusters")).isEqualTo(2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"GRPC", "DELTA_GRPC"})
  void badClusterIsNackedByNameWhileTheGoodOneApplies(String apiType) throws Exception {
    TestBackend a = backend("a");
    snapshot("1", List.of(edsCluster("backend", "backend-svc")), List.of(oneEndpoint("backend-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    Server s = start(apiType, AdsBootstrap.toPort(startControlPlane(0)));

    Cluster bad = edsCluster("broken", "broken-svc").toBuilder()
        .setClusterType(Cluster.CustomClusterType.newBuilder().setName("envoy.clusters.nope")
            .setTypedConfig(Any.pack(TypedExtensionConfig.getDefaultInstance())))
        .build();
    snapshot("2", List.of(edsCluster("backend", "backend-svc"), edsCluster("good", "good-svc"), bad),
        List.of(oneEndpoint("backend-svc", a.port()), oneEndpoint("good-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));

    // java-control-plane answers a SotW NACK (an older version_info) with the same version again,
    // so the rejection repeats until the snapshot changes: at least one.
    await().atMost(WAIT).untilAsserted(() -> assertThat(counter(s, "cluster_manager.cds.update_rejected")).isPositive());
    String detail;
    if (apiType.equals("GRPC")) {
      DiscoveryRequest nack = controlPlane.requests.stream().filter(DiscoveryRequest::hasErrorDetail).findFirst().orElseThrow();
      assertThat(nack.getVersionInfo()).as("a NACK carries the previous version").isEqualTo("1");
      assertThat(nack.getResponseNonce()).isNotEmpty();
      detail = nack.getErrorDetail().getMessage();
    } else {
      DeltaDiscoveryRequest nack = controlPlane.deltaRequests.stream().filter(DeltaDiscoveryRequest::hasErrorDetail).findFirst().orElseThrow();
      assertThat(nack.getResponseNonce()).isNotEmpty();
      detail = nack.getErrorDetail().getMessage();
    }
    assertThat(detail).startsWith("Error adding/updating cluster(s) broken: ").contains("custom cluster type")
        .doesNotContain("good");
    // The good cluster was applied (and warmed on its endpoints); the bad one is not there.
    await().atMost(WAIT).untilAsserted(() -> assertThat(gauge(s, "cluster_manager.active_clusters")).isEqualTo(3));
    assertThat(gauge(s, "cluster_manager.cds.version")).isEqualTo(SubscriptionStats.hash("1"));
    assertThat(get(s, "http", "/").statusCode()).isEqualTo(200);

    // A fixed version is accepted and becomes the version reported.
    snapshot("3", List.of(edsCluster("backend", "backend-svc"), edsCluster("good", "good-svc")),
        List.of(oneEndpoint("backend-svc", a.port()), oneEndpoint("good-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    if (apiType.equals("GRPC")) {
      await().atMost(WAIT).untilAsserted(() ->
          assertThat(gauge(s, "cluster_manager.cds.version")).isEqualTo(SubscriptionStats.hash("3")));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"GRPC", "DELTA_GRPC"})
  void controlPlaneRestartKeepsStateAndResubscribesWithVersionsHeld(String apiType) throws Exception {
    TestBackend a = backend("a");
    snapshot("1", List.of(edsCluster("backend", "backend-svc")), List.of(oneEndpoint("backend-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    int port = startControlPlane(0);
    Server s = start(apiType, AdsBootstrap.toPort(port));
    assertThat(get(s, "http", "/").statusCode()).isEqualTo(200);

    controlPlane.close();
    await().atMost(WAIT).until(() -> gauge(s, "control_plane.connected_state") == 0);
    // State is kept while the control plane is away.
    assertThat(get(s, "http", "/").statusCode()).isEqualTo(200);

    startControlPlane(port);
    await().atMost(WAIT).until(() -> gauge(s, "control_plane.connected_state") == 1);
    if (apiType.equals("GRPC")) {
      await().atMost(WAIT).untilAsserted(() -> assertThat(controlPlane.requests).anySatisfy(q -> {
        assertThat(q.getTypeUrl()).isEqualTo(XdsResourceType.CLUSTER.typeUrl());
        assertThat(q.getVersionInfo()).isEqualTo("1");
        assertThat(q.getResponseNonce()).isEmpty();
        assertThat(q.hasNode()).isTrue();
      }));
    } else {
      await().atMost(WAIT).untilAsserted(() -> assertThat(controlPlane.deltaRequests).anySatisfy(q -> {
        assertThat(q.getTypeUrl()).isEqualTo(XdsResourceType.LISTENER.typeUrl());
        assertThat(q.getInitialResourceVersionsMap()).containsKey("http");
      }));
    }
    assertThat(get(s, "http", "/").statusCode()).isEqualTo(200);
    assertThat(counter(s, "listener_manager.listener_modified")).isZero();
  }

  @Test
  void unixDomainSocketTransport() throws Exception {
    assumeThat(Epoll.isAvailable()).as("epoll (Unix domain sockets)").isTrue();
    TestBackend a = backend("a");
    snapshot("1", List.of(edsCluster("backend", "backend-svc")), List.of(oneEndpoint("backend-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    Path socket = dir.resolve("XDS");
    controlPlane = TestControlPlane.startOnUnixSocket(socket, cache, Service.ADS);
    Server s = start("GRPC", AdsBootstrap.toAddress("{pipe: {path: '" + socket + "'}}"));
    assertThat(get(s, "http", "/uds").statusCode()).isEqualTo(200);
    assertThat(gauge(s, "control_plane.connected_state")).isEqualTo(1);
  }

  private JsonObject configDump(Server s, String query) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.adminPort() + "/config_dump" + query))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  private static JsonObject section(JsonObject dump, String type) {
    for (var c : dump.getAsJsonArray("configs")) {
      if (c.getAsJsonObject().get("@type").getAsString().endsWith("." + type)) {
        return c.getAsJsonObject();
      }
    }
    throw new AssertionError("no " + type + " in " + dump);
  }

  private static JsonObject named(JsonObject section, String list, String nameField, String name) {
    for (var e : section.getAsJsonArray(list)) {
      JsonObject o = e.getAsJsonObject();
      if (nameField.isEmpty() ? o.toString().contains("\"name\":\"" + name + "\"") : o.get(nameField).getAsString().equals(name)) {
        return o;
      }
    }
    throw new AssertionError("no " + name + " in " + list + ": " + section);
  }

  @Test
  void configDumpShowsDynamicResourcesWithVersionsWarmingAndErrorStates() throws Exception {
    TestBackend a = backend("a");
    snapshot("1", List.of(edsCluster("backend", "backend-svc")), List.of(oneEndpoint("backend-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    Server s = start("GRPC", AdsBootstrap.toPort(startControlPlane(0)));
    assertThat(get(s, "http", "/").statusCode()).isEqualTo(200);

    // Version 2: a cluster whose endpoints never come (warming) and a listener that cannot be built.
    Listener broken = listener("broken", "local").toBuilder().setFilterChains(0, FilterChain.newBuilder()
        .addFilters(Filter.newBuilder().setName("envoy.filters.network.nope")
            .setTypedConfig(Any.pack(com.google.protobuf.Empty.getDefaultInstance())))).build();
    snapshot("2", List.of(edsCluster("backend", "backend-svc"), edsCluster("waiting", "waiting-svc")),
        List.of(oneEndpoint("backend-svc", a.port())), List.of(listener("http", "local"), broken),
        List.of(routeToCluster("local", "backend")));
    await().atMost(WAIT).untilAsserted(() -> assertThat(counter(s, "listener_manager.lds.update_rejected")).isPositive());

    JsonObject dump = configDump(s, "?include_eds");
    JsonObject clusters = section(dump, "ClustersConfigDump");
    assertThat(clusters.get("version_info").getAsString()).isEqualTo("2");
    JsonObject backend = named(clusters, "dynamic_active_clusters", "", "backend");
    assertThat(backend.get("version_info").getAsString()).isEqualTo("1");
    assertThat(backend.has("last_updated")).isTrue();
    assertThat(named(clusters, "dynamic_warming_clusters", "", "waiting").get("version_info").getAsString()).isEqualTo("2");
    assertThat(named(clusters, "static_clusters", "", "xds-grpc")).isNotNull();

    JsonObject listeners = section(dump, "ListenersConfigDump");
    JsonObject http = named(listeners, "dynamic_listeners", "name", "http");
    assertThat(http.getAsJsonObject("active_state").get("version_info").getAsString()).isEqualTo("1");
    JsonObject error = named(listeners, "dynamic_listeners", "name", "broken").getAsJsonObject("error_state");
    assertThat(error.get("details").getAsString()).contains("envoy.filters.network.nope");
    assertThat(error.get("version_info").getAsString()).isEqualTo("2");
    assertThat(error.getAsJsonObject("failed_configuration").get("name").getAsString()).isEqualTo("broken");

    JsonObject routes = section(dump, "RoutesConfigDump");
    assertThat(named(routes, "dynamic_route_configs", "", "local").get("version_info").getAsString()).isEqualTo("1");
    JsonObject eds = section(dump, "EndpointsConfigDump");
    assertThat(eds.getAsJsonArray("dynamic_endpoint_configs").toString()).contains("\"cluster_name\":\"backend-svc\"");
    // Without include_eds there is no endpoints section.
    assertThat(configDump(s, "").toString()).doesNotContain("EndpointsConfigDump");
  }

  @ParameterizedTest
  @ValueSource(strings = {"GRPC", "DELTA_GRPC"})
  void edsClusterWithoutEndpointsIsActivatedEmptyAfterItsInitialFetchTimeout(String apiType) throws Exception {
    TestBackend a = backend("a");
    Cluster waiting = edsCluster("waiting", "waiting-svc").toBuilder().setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
        .setServiceName("waiting-svc").setEdsConfig(ads().toBuilder()
            .setInitialFetchTimeout(com.google.protobuf.Duration.newBuilder().setNanos(200_000_000)))).build();
    // Only "waiting": java-control-plane's ADS cache drops a request naming a missing assignment
    // together with a present one (it answers neither), so it would starve any other EDS cluster.
    snapshot("1", List.of(waiting), List.of(), List.of(listener("http", "local")), List.of(routeToCluster("local", "waiting")));
    Server s = start(apiType, AdsBootstrap.toPort(startControlPlane(0)));
    await().atMost(WAIT).untilAsserted(() -> assertThat(counter(s, "cluster.waiting.init_fetch_timeout")).isEqualTo(1));
    assertThat(gauge(s, "cluster_manager.warming_clusters")).isZero();
    assertThat(gauge(s, "cluster_manager.active_clusters")).isEqualTo(2); // xds-grpc, waiting
    // Active with no host: Envoy's no_healthy_upstream.
    assertThat(get(s, "http", "/").statusCode()).isEqualTo(503);

    // Its endpoints arrive later and it serves.
    snapshot("2", List.of(waiting), List.of(oneEndpoint("waiting-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "waiting")));
    await().atMost(WAIT).until(() -> get(s, "http", "/").statusCode() == 200);
  }

  @Test
  void edsClusterSubscriptionStatsAndRejectedResourcesInConfigDump() throws Exception {
    TestBackend a = backend("a");
    snapshot("1", List.of(edsCluster("backend", "backend-svc")), List.of(oneEndpoint("backend-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    Server s = start("GRPC", AdsBootstrap.toPort(startControlPlane(0)));
    assertThat(get(s, "http", "/").statusCode()).isEqualTo(200);
    assertThat(counter(s, "cluster.backend.update_attempt")).isEqualTo(1);
    assertThat(counter(s, "cluster.backend.update_success")).isEqualTo(1);
    assertThat(counter(s, "cluster.backend.update_no_rebuild")).isZero();
    // The EDS subscription's stats exist from the start, as Envoy's.
    assertThat(s.stats().counters()).extracting(c -> c.name())
        .contains("cluster.backend.update_rejected", "cluster.backend.init_fetch_timeout");
    assertThat(gauge(s, "control_plane.pending_requests")).isZero();
    assertThat(counter(s, "control_plane.rate_limit_enforced")).isZero();

    // The same endpoints under a new version: accepted, nothing rebuilt.
    snapshot("2", List.of(edsCluster("backend", "backend-svc")), List.of(oneEndpoint("backend-svc", a.port())),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    await().atMost(WAIT).untilAsserted(() -> assertThat(counter(s, "cluster.backend.update_no_rebuild")).isEqualTo(1));
    assertThat(counter(s, "cluster.backend.update_success")).isEqualTo(2);
    assertThat(gauge(s, "cluster.backend.version")).isEqualTo(SubscriptionStats.hash("2"));

    // An assignment that cannot be used, and a cluster that cannot be built: both NACKed and shown
    // in /config_dump with their error_state, the last good assignment serving meanwhile.
    ClusterLoadAssignment bad = oneEndpoint("backend-svc", a.port()).toBuilder()
        .setPolicy(ClusterLoadAssignment.Policy.newBuilder().setOverprovisioningFactor(
            com.google.protobuf.UInt32Value.of(0))).build();
    Cluster broken = edsCluster("broken", "backend-svc").toBuilder()
        .setClusterType(Cluster.CustomClusterType.newBuilder().setName("envoy.clusters.nope")
            .setTypedConfig(Any.pack(TypedExtensionConfig.getDefaultInstance()))).build();
    snapshot("3", List.of(edsCluster("backend", "backend-svc"), broken), List.of(bad),
        List.of(listener("http", "local")), List.of(routeToCluster("local", "backend")));
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(counter(s, "cluster.backend.update_rejected")).isPositive();
      assertThat(counter(s, "cluster_manager.cds.update_rejected")).isPositive();
    });
    assertThat(counter(s, "cluster.backend.update_attempt")).isGreaterThan(counter(s, "cluster.backend.update_success"));
    assertThat(gauge(s, "cluster.backend.version")).isEqualTo(SubscriptionStats.hash("2"));
    assertThat(get(s, "http", "/").statusCode()).isEqualTo(200);

    JsonObject dump = configDump(s, "?include_eds");
    JsonObject eds = section(dump, "EndpointsConfigDump").getAsJsonArray("dynamic_endpoint_configs").get(0).getAsJsonObject();
    assertThat(eds.getAsJsonObject("endpoint_config").get("cluster_name").getAsString()).isEqualTo("backend-svc");
    // The version it last changed at (version 2 re-sent the same assignment).
    assertThat(eds.get("version_info").getAsString()).isEqualTo("1");
    JsonObject edsError = eds.getAsJsonObject("error_state");
    assertThat(edsError.get("details").getAsString()).contains("overprovisioning_factor");
    assertThat(edsError.get("version_info").getAsString()).isEqualTo("3");
    assertThat(edsError.has("last_update_attempt")).isTrue();
    assertThat(eds.get("client_status").getAsString()).isEqualTo("NACKED");
    JsonObject cds = named(section(dump, "ClustersConfigDump"), "dynamic_active_clusters", "", "broken");
    assertThat(cds.has("cluster")).as("never accepted").isFalse();
    assertThat(cds.getAsJsonObject("error_state").get("details").getAsString()).contains("custom cluster type");
    assertThat(cds.getAsJsonObject("error_state").has("last_update_attempt")).isTrue();
  }
}
