package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.ads;
import static dev.sluice.testing.XdsProtos.loopback;
import static dev.sluice.testing.XdsProtos.rdsListener;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.config.ConfigText;
import dev.sluice.config.ProtoJson;
import dev.sluice.config.ProtoTypes;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.AdsBootstrap;
import dev.sluice.testing.TestControlPlane;
import dev.sluice.testing.TestControlPlane.Service;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.AdditionalAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's real resources (the config dumps in {@code /work/shared/istio/config-dumps}) served by
 * java-control-plane over ADS to a full Sluice server, each reported as ACK or NACK with its
 * reason. Clusters, endpoints, route configurations and every listener of the sidecar dump must
 * be accepted: virtualInbound with ext_authz (Istio's CUSTOM action), HBONE's connect_terminate
 * (connect_baggage, connect_authority), and the internal listeners main_internal and
 * connect_originate (no socket address, istio.set_internal_dst_address, a tunnelling tcp_proxy).
 *
 * <p>What is changed from the dumps, and why: every listener address becomes 127.0.0.1:0 (only
 * loopback, no fixed ports); the endpoint dump comes without its clusters, so each assignment
 * gets a plain EDS cluster of its name; the gateway's subset cluster gets an assignment copied
 * from its service's; and the gateway's listener (absent from the dump) is an HTTP connection
 * manager naming the dumped route configuration. Java-control-plane answers an ADS request only
 * when it holds every name asked for, so every name asked for is served: the sidecar's listeners
 * get empty route configurations of the names they use (their routes are not in the dumps).
 */
class IstioResourcesOverXdsTest {
  private static final Path DUMPS = Path.of("/work/shared/istio/config-dumps");
  private static final String GROUP = "istio";
  private static final Duration WAIT = Duration.ofSeconds(20);


  @TempDir Path dir;
  private final SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
  private final List<AutoCloseable> closeables = new ArrayList<>();
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

  // ---- the dumps ----

  private static ConfigDump dump(String file) throws IOException {
    ProtoJson json = new ProtoJson(ProtoTypes.get(), false);
    return json.parse(ConfigText.read(Files.readString(DUMPS.resolve(file)), false), ConfigDump.getDefaultInstance());
  }

  private static <T extends com.google.protobuf.Message> T section(ConfigDump dump, Class<T> type)
      throws InvalidProtocolBufferException {
    for (Any config : dump.getConfigsList()) {
      if (config.is(type)) {
        return config.unpack(type);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in the dump");
  }

  private static List<Listener> sidecarListeners() throws IOException {
    ListenersConfigDump dump = section(dump("sidecar-lds-2023-06_istioctl-authz-configdump.json"), ListenersConfigDump.class);
    List<Listener> listeners = new ArrayList<>();
    for (ListenersConfigDump.DynamicListener l : dump.getDynamicListenersList()) {
      listeners.add(onLoopback(l.getActiveState().getListener().unpack(Listener.class)));
    }
    return listeners;
  }

  /** The listener with every socket address moved to 127.0.0.1 on an ephemeral port. */
  private static Listener onLoopback(Listener l) {
    Listener.Builder b = l.toBuilder();
    if (l.getAddress().hasSocketAddress()) {
      b.setAddress(loopback(0));
    }
    b.clearAdditionalAddresses();
    for (AdditionalAddress a : l.getAdditionalAddressesList()) {
      b.addAdditionalAddresses(a.getAddress().hasSocketAddress() ? a.toBuilder().setAddress(loopback(0)).build() : a);
    }
    return b.build();
  }

  private static List<String> rdsNames(List<Listener> listeners) throws InvalidProtocolBufferException {
    List<String> names = new ArrayList<>();
    for (Listener l : listeners) {
      for (FilterChain chain : l.getFilterChainsList()) {
        for (Filter f : chain.getFiltersList()) {
          if (f.getTypedConfig().is(HttpConnectionManager.class)) {
            HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
            if (hcm.hasRds() && !names.contains(hcm.getRds().getRouteConfigName())) {
              names.add(hcm.getRds().getRouteConfigName());
            }
          }
        }
      }
    }
    return names;
  }

  // ---- the control plane and the server ----

  private int startControlPlane() throws Exception {
    controlPlane = TestControlPlane.start(cache, Service.ADS);
    return controlPlane.port();
  }

  /**
   * A server bootstrapped as an Istio sidecar is for these resources: the xds-grpc cluster, and
   * the sds-grpc pipe (nothing listens on it here) that the dumped TLS contexts name.
   */
  private Server start(int xdsPort) {
    Server s = new Server(TestServers.options(), TestServers.bootstrap(AdsBootstrap.toPort(xdsPort)
        .node("sidecar~10.244.0.10~productpage-v1.default~default.svc.cluster.local", "productpage.default")
        .staticCluster("sds-grpc", "{pipe: {path: '" + dir.resolve("sds.sock") + "'}}")
        .nodeOnFirstMessageOnly().initialFetchTimeout("1s").yaml())).start();
    closeables.add(s);
    return s;
  }

  /** Waits for the ACK or NACK of the first response of {@code type}; returns each name's NACK reason, or "ACK". */
  private Map<String, String> verdicts(XdsResourceType type, List<String> names) {
    DiscoveryRequest reply = await().atMost(WAIT).until(() -> controlPlane.requests.stream()
        .filter(q -> q.getTypeUrl().equals(type.typeUrl()) && !q.getResponseNonce().isEmpty())
        .findFirst().orElse(null), q -> q != null);
    Map<String, String> verdicts = new LinkedHashMap<>();
    names.forEach(n -> verdicts.put(n, "ACK"));
    if (reply.hasErrorDetail()) {
      nackReasons(reply.getErrorDetail().getMessage(), names).forEach(verdicts::put);
    }
    return verdicts;
  }

  /**
   * Splits a NACK's {@code Error adding/updating listener(s) a: why, b: why} by the names it can
   * hold (the reasons may themselves contain commas).
   */
  static Map<String, String> nackReasons(String message, List<String> names) {
    record At(String name, int start) {}
    List<At> found = new ArrayList<>();
    for (String name : names) {
      for (String before : List.of("s) ", ", ")) {
        int i = message.indexOf(before + name + ": ");
        if (i >= 0) {
          found.add(new At(name, i + before.length()));
          break;
        }
      }
    }
    found.sort(Comparator.comparingInt(At::start));
    Map<String, String> reasons = new LinkedHashMap<>();
    for (int k = 0; k < found.size(); k++) {
      At at = found.get(k);
      int end = k + 1 < found.size() ? found.get(k + 1).start() - 2 : message.length();
      reasons.put(at.name(), message.substring(at.start() + at.name().length() + 2, end));
    }
    return reasons;
  }

  private static void report(String what, Map<String, String> verdicts) {
    System.out.println("---- " + what);
    verdicts.forEach((name, verdict) -> System.out.println(name + " -> " + verdict));
  }

  // ---- tests ----

  @Test
  void gatewayRoutesHttpAndHttpsClustersAndBookinfoEndpointsAreAccepted() throws Exception {
    ConfigDump gateway = dump("ingressgw-bookinfo-http-rds-cds_istioctl-describe-http_config.json");
    List<Cluster> clusters = new ArrayList<>();
    for (ClustersConfigDump.DynamicCluster c : section(gateway, ClustersConfigDump.class).getDynamicActiveClustersList()) {
      clusters.add(c.getCluster().unpack(Cluster.class));
    }
    List<RouteConfiguration> routes = new ArrayList<>();
    for (RoutesConfigDump.DynamicRouteConfig r : section(gateway, RoutesConfigDump.class).getDynamicRouteConfigsList()) {
      routes.add(r.getRouteConfig().unpack(RouteConfiguration.class));
    }
    // The HTTPS gateway's route configuration too (its listener's TLS needs the gateway's
    // credential, whose key the secrets dump has redacted: the route configuration is what counts).
    for (RoutesConfigDump.DynamicRouteConfig r : section(dump("ingressgw-bookinfo-https-rds_istioctl-describe-tls_config.json"),
        RoutesConfigDump.class).getDynamicRouteConfigsList()) {
      routes.add(r.getRouteConfig().unpack(RouteConfiguration.class));
    }
    Map<String, ClusterLoadAssignment> endpoints = new LinkedHashMap<>();
    EndpointsConfigDump eds = section(dump("bookinfo-eds-2022-07_istioctl-endpoint-configdump.json"), EndpointsConfigDump.class);
    for (EndpointsConfigDump.DynamicEndpointConfig e : eds.getDynamicEndpointConfigsList()) {
      ClusterLoadAssignment cla = e.getEndpointConfig().unpack(ClusterLoadAssignment.class);
      endpoints.put(cla.getClusterName(), cla);
      clusters.add(Cluster.newBuilder().setName(cla.getClusterName()).setType(Cluster.DiscoveryType.EDS)
          .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(10))
          .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads()).setServiceName(cla.getClusterName()))
          .build());
    }
    // The gateway's subset cluster: its service's endpoints under its own name.
    Cluster subset = clusters.getFirst();
    String service = subset.getName().replace("|v1|", "||");
    assertThat(endpoints).containsKey(service);
    endpoints.put(subset.getName(), endpoints.get(service).toBuilder().setClusterName(subset.getName()).build());

    Listener listener = gatewayListener("0.0.0.0_8080", routes.get(0).getName());
    Listener https = gatewayListener("0.0.0.0_8443", routes.get(1).getName());
    cache.setSnapshot(GROUP, Snapshot.create(clusters, List.copyOf(endpoints.values()), List.of(listener, https), routes, List.of(), "1"));
    Server s = start(startControlPlane());

    Map<String, String> cds = verdicts(XdsResourceType.CLUSTER, clusters.stream().map(Cluster::getName).toList());
    Map<String, String> eds1 = verdicts(XdsResourceType.ENDPOINT, List.copyOf(endpoints.keySet()));
    Map<String, String> rds = verdicts(XdsResourceType.ROUTE, routes.stream().map(RouteConfiguration::getName).toList());
    report("clusters", cds);
    report("endpoints", eds1);
    report("routes", rds);
    assertThat(cds).hasSize(clusters.size()).allSatisfy((name, verdict) -> assertThat(verdict).as(name).isEqualTo("ACK"));
    assertThat(eds1).hasSize(endpoints.size()).allSatisfy((name, verdict) -> assertThat(verdict).as(name).isEqualTo("ACK"));
    assertThat(rds).containsExactly(Map.entry("http.8080", "ACK"), Map.entry("https.443.https.bookinfo-gateway.default", "ACK"));
    assertThat(verdicts(XdsResourceType.LISTENER, List.of(listener.getName(), https.getName())))
        .containsExactly(Map.entry("0.0.0.0_8080", "ACK"), Map.entry("0.0.0.0_8443", "ACK"));
    // RDS stats of the gateway's connection manager count the dumped route configuration.
    await().atMost(WAIT).untilAsserted(() ->
        assertThat(s.stats().counter("http.outbound_0.0.0.0_8080.rds.http.8080.update_success").value()).isEqualTo(1));
  }

  /** A gateway listener (not in the dumps): a connection manager whose routes come over RDS. */
  private static Listener gatewayListener(String name, String routeConfigName) {
    return rdsListener(name, "outbound_" + name, routeConfigName);
  }

  /**
   * The cluster connect_terminate's route names, as istiod sends it with these listeners (it is
   * not in the listener dump): STATIC, its endpoint the internal listener {@code main_internal},
   * behind Istio's internal_upstream transport socket passing the endpoint's {@code tunnel} metadata.
   */
  private static Cluster mainInternalCluster() throws IOException {
    return new ProtoJson(ProtoTypes.get(), false).parse(ConfigText.read("""
        name: main_internal
        type: STATIC
        connect_timeout: 10s
        transport_socket:
          name: internal_upstream
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport
            passthrough_metadata: [{kind: {host: {}}, name: tunnel}]
            transport_socket: {name: raw_buffer, typed_config: {"@type": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}
        load_assignment:
          cluster_name: main_internal
          endpoints: [{lb_endpoints: [{endpoint: {address: {envoy_internal_address: {server_listener_name: main_internal}}}}]}]
        """, true), Cluster.getDefaultInstance());
  }

  @Test
  void everySidecarListenerIsAccepted() throws Exception {
    List<Listener> listeners = sidecarListeners();
    List<RouteConfiguration> routes = new ArrayList<>();
    for (String name : rdsNames(listeners)) {
      routes.add(RouteConfiguration.newBuilder().setName(name).build());
    }
    cache.setSnapshot(GROUP, Snapshot.create(List.of(mainInternalCluster()), List.of(), listeners, routes, List.of(), "1"));
    Server s = start(startControlPlane());

    Map<String, String> lds = verdicts(XdsResourceType.LISTENER, listeners.stream().map(Listener::getName).toList());
    report("sidecar listeners", lds);
    assertThat(lds).hasSize(listeners.size()).containsKeys("virtualInbound", "connect_terminate", "main_internal", "connect_originate")
        .allSatisfy((name, verdict) -> assertThat(verdict).as(name).isEqualTo("ACK"));
    // The internal listeners are up without a socket, under Envoy's envoy://name/ address.
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    await().atMost(WAIT).untilAsserted(() -> assertThat(http.send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + s.adminPort() + "/listeners")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body())
        .contains("main_internal::envoy://main_internal/\n", "connect_originate::envoy://connect_originate/\n"));
  }
}
