package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.edsCluster;
import static dev.sluice.testing.XdsProtos.httpListener;
import static dev.sluice.testing.XdsProtos.oneEndpoint;
import static dev.sluice.testing.XdsProtos.rdsConnectionManager;
import static dev.sluice.testing.XdsProtos.routeToCluster;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestControlPlane.Service;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Config sources other than ADS: {@code api_config_source} GRPC and DELTA_GRPC streams of each
 * type's own discovery service (java-control-plane serving LDS, RDS, CDS and EDS, and no ADS), and
 * {@code path_config_source} / {@code path} files holding a DiscoveryResponse, re-read when a new
 * version is moved into place or, with {@code watched_directory}, when anything is moved into
 * that directory.
 */
class StandaloneConfigSourcesTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private TestControlPlane controlPlane;

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
  }

  private TestBackend backend(String name) throws Exception {
    TestBackend b = new TestBackend(name);
    closeables.add(b);
    return b;
  }

  private Server start(String yaml) {
    Server s = TestServers.start(yaml);
    closeables.add(s);
    return s;
  }

  private int get(Server s, String listener) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.listenerPort(listener) + "/"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @ParameterizedTest
  @ValueSource(strings = {"GRPC", "DELTA_GRPC"})
  void eachTypeOnItsOwnStreamWithoutAds(String apiType) throws Exception {
    TestBackend a = backend("a");
    SimpleCache<String> cache = new SimpleCache<>(node -> "g");
    // No ADS service: everything must come over the per-type services.
    controlPlane = TestControlPlane.start(cache, Service.LDS, Service.RDS, Service.CDS, Service.EDS);
    String source = "{api_config_source: {api_type: %s, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]}, resource_api_version: V3}"
        .formatted(apiType);
    ConfigSource api = TestServers.bootstrap("dynamic_resources: {cds_config: " + source + "}").getDynamicResources().getCdsConfig();
    cache.setSnapshot("g", Snapshot.create(List.of(edsCluster("backend", "backend-svc", api)),
        List.of(oneEndpoint("backend-svc", a.port())), List.of(httpListener("http", rdsConnectionManager("ingress", "local", api))),
        List.of(routeToCluster("local", "backend")), List.of(), "1"));

    Server s = start("""
        node: {id: sidecar~127.0.0.1~test~default, cluster: test}
        static_resources:
          clusters:
          - name: xds-grpc
            type: STATIC
            connect_timeout: 1s
            load_assignment:
              cluster_name: xds-grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
        dynamic_resources:
          cds_config: %s
          lds_config: %s
        """.formatted(controlPlane.port(), source, source));
    assertThat(get(s, "http")).isEqualTo(200);
    assertThat(a.requests.get()).isEqualTo(1);
    Set<String> typesRequested = Stream.concat(controlPlane.requests.stream().map(DiscoveryRequest::getTypeUrl),
        controlPlane.deltaRequests.stream().map(DeltaDiscoveryRequest::getTypeUrl)).collect(Collectors.toSet());
    assertThat(typesRequested).containsExactlyInAnyOrder(XdsResourceType.CLUSTER.typeUrl(),
        XdsResourceType.ENDPOINT.typeUrl(), XdsResourceType.LISTENER.typeUrl(), XdsResourceType.ROUTE.typeUrl());
    assertThat(s.stats().counter("cluster_manager.cds.update_success").value()).isPositive();
    assertThat(s.stats().counter("listener_manager.lds.update_success").value()).isPositive();
  }

  private static String clusters(String version, int port) {
    return """
        version_info: "%s"
        resources:
        - "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
          name: backend
          type: STATIC
          connect_timeout: 1s
          load_assignment:
            cluster_name: backend
            endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
        """.formatted(version, port);
  }

  private static String listeners(String version, String name) {
    return """
        version_info: "%s"
        resources:
        - "@type": type.googleapis.com/envoy.config.listener.v3.Listener
          name: %s
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress
                route_config:
                  virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}]
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
        """.formatted(version, name);
  }

  /** Writes {@code text} beside {@code target} and renames it over it (the atomic update Envoy expects). */
  private void moveInto(Path target, String text) throws Exception {
    Path tmp = dir.resolve("tmp-" + target.getFileName());
    Files.writeString(tmp, text);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void filesAreReadAtStartAndAgainWhenANewVersionIsMovedIn() throws Exception {
    TestBackend a = backend("a");
    TestBackend b = backend("b");
    Path config = Files.createDirectories(dir.resolve("config"));
    Path cds = config.resolve("cds.yaml");
    Path lds = config.resolve("lds.json");
    Files.writeString(cds, clusters("1", a.port()));
    Files.writeString(lds, dev.sluice.config.ConfigText.read(listeners("1", "http"), true).toString());
    // cds_config with the deprecated path; lds_config with path_config_source.
    Server s = start("""
        node: {id: n, cluster: test}
        dynamic_resources:
          cds_config: {path: '%s'}
          lds_config: {path_config_source: {path: '%s'}}
        """.formatted(cds, lds));
    assertThat(get(s, "http")).isEqualTo(200);
    assertThat(a.requests.get()).isEqualTo(1);

    moveInto(cds, clusters("2", b.port()));
    await().atMost(WAIT).until(() -> get(s, "http") == 200 && b.requests.get() > 0);
    assertThat(s.stats().gauge("cluster_manager.cds.version").value()).isEqualTo(SubscriptionStats.hash("2"));

    // A file that does not parse is rejected; what was applied stays.
    moveInto(cds, "version_info: [");
    await().atMost(WAIT).until(() -> s.stats().counter("cluster_manager.cds.update_rejected").value() > 0);
    assertThat(get(s, "http")).isEqualTo(200);

    // The listener is renamed: the old one goes, the new one serves (a file holds the whole state).
    moveInto(lds, listeners("2", "http2"));
    await().atMost(WAIT).until(() -> s.stats().counter("listener_manager.listener_removed").value() == 1);
    assertThat(get(s, "http2")).isEqualTo(200);
  }

  @Test
  void withAWatchedDirectoryAMoveIntoItReloadsThePath() throws Exception {
    TestBackend a = backend("a");
    TestBackend b = backend("b");
    Path data = Files.createDirectories(dir.resolve("data"));
    Path watched = Files.createDirectories(dir.resolve("watched"));
    Path cds = data.resolve("cds.yaml");
    Files.writeString(cds, clusters("1", a.port()));
    Path lds = data.resolve("lds.yaml");
    Files.writeString(lds, listeners("1", "http"));
    Server s = start("""
        node: {id: n, cluster: test}
        dynamic_resources:
          cds_config: {path_config_source: {path: '%s', watched_directory: {path: '%s'}}}
          lds_config: {path_config_source: {path: '%s'}}
        """.formatted(cds, watched, lds));
    assertThat(get(s, "http")).isEqualTo(200);

    // The data directory is not watched for cds: a write there alone changes nothing; the move of
    // any entry into the watched directory (a ConfigMap's ..data swap) reloads the path.
    Files.writeString(cds, clusters("2", b.port()));
    Path marker = dir.resolve("marker");
    Files.writeString(marker, "x");
    Files.move(marker, watched.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    await().atMost(WAIT).until(() -> get(s, "http") == 200 && b.requests.get() > 0);
    assertThat(s.stats().gauge("cluster_manager.cds.version").value()).isEqualTo(SubscriptionStats.hash("2"));
  }
}
