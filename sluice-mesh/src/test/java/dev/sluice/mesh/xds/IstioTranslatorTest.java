package dev.sluice.mesh.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.mesh.model.ProxyNode;
import dev.sluice.mesh.model.XdsResources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.List;
import org.junit.jupiter.api.Test;

class IstioTranslatorTest {
  private static final String REVIEWS = "reviews.default.svc.cluster.local";

  private static RouteConfiguration routeConfig(XdsResources x, String name) {
    return x.routes().stream().filter(r -> r.getName().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no route config " + name));
  }

  private static VirtualHost vhost(XdsResources x, String routeConfig, String name) {
    return routeConfig(x, routeConfig).getVirtualHostsList().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no virtual host " + name));
  }

  private static Listener listener(XdsResources x, String name) {
    return x.listeners().stream().filter(l -> l.getName().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no listener " + name));
  }

  private static HttpConnectionManager hcm(Listener l, int chain) throws InvalidProtocolBufferException {
    return l.getFilterChains(chain).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
  }

  private static List<String> clusters(Route r) {
    return r.getRoute().hasWeightedClusters()
        ? r.getRoute().getWeightedClusters().getClustersList().stream().map(WeightedCluster.ClusterWeight::getName).toList()
        : List.of(r.getRoute().getCluster());
  }

  @Test
  void withoutVirtualServicesEveryServiceHasIstiosDefaultRoute() throws Exception {
    XdsResources x = Bookinfo.translate(Bookinfo.PRODUCTPAGE);
    RouteConfiguration rc = routeConfig(x, "http_proxy");
    assertThat(rc.getVirtualHostsList()).extracting(VirtualHost::getName).containsExactly(
        "details.default.svc.cluster.local:9080", "ratings.default.svc.cluster.local:9080", REVIEWS + ":9080",
        "productpage.default.svc.cluster.local:9080", "allow_any");
    VirtualHost reviews = rc.getVirtualHosts(2);
    assertThat(reviews.getDomainsList()).containsExactly(REVIEWS + ":9080", "reviews:9080", "reviews.default:9080",
        "reviews.default.svc:9080", "10.96.1.3:9080");
    assertThat(reviews.getIncludeRequestAttemptCount()).isTrue();
    Route route = reviews.getRoutes(0);
    assertThat(route.getName()).isEqualTo("default");
    assertThat(route.getMatch().getPrefix()).isEqualTo("/");
    assertThat(route.getRoute().getCluster()).isEqualTo("outbound|9080||" + REVIEWS);
    assertThat(route.getRoute().getTimeout().getSeconds()).isZero();
    assertThat(route.getDecorator().getOperation()).isEqualTo(REVIEWS + ":9080/*");
    var retry = route.getRoute().getRetryPolicy();
    assertThat(retry.getRetryOn()).isEqualTo("connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes");
    assertThat(retry.getNumRetries().getValue()).isEqualTo(2);
    assertThat(retry.getRetryHostPredicate(0).getName()).isEqualTo("envoy.retry_host_predicates.previous_hosts");
    assertThat(retry.getHostSelectionRetryMaxAttempts()).isEqualTo(5);
    assertThat(retry.getRetriableStatusCodesList()).containsExactly(503);
    VirtualHost allowAny = rc.getVirtualHosts(4);
    assertThat(allowAny.getDomainsList()).containsExactly("*");
    assertThat(allowAny.getRoutes(0).getRoute().getCluster()).isEqualTo("PassthroughCluster");

    // Explicit mode listeners: inbound on the workload address to the app, and the outbound HTTP proxy.
    assertThat(x.listeners()).extracting(Listener::getName).containsExactly("127.0.1.6_9080", "127.0.1.6_15001");
    Listener outbound = listener(x, "127.0.1.6_15001");
    assertThat(outbound.getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.1.6");
    assertThat(outbound.getAddress().getSocketAddress().getPortValue()).isEqualTo(15001);
    HttpConnectionManager h = hcm(outbound, 0);
    assertThat(h.getStatPrefix()).isEqualTo("outbound_127.0.1.6_15001");
    assertThat(h.getRds().getRouteConfigName()).isEqualTo("http_proxy");
    assertThat(h.getRds().getConfigSource().hasAds()).isTrue();
    assertThat(h.getHttpFiltersList()).extracting(f -> f.getName())
        .containsExactly("envoy.filters.http.fault", "envoy.filters.http.cors", "envoy.filters.http.router");

    assertThat(x.clusters()).extracting(Cluster::getName).contains(
        "outbound|9080||" + REVIEWS, "outbound|9080|v1|" + REVIEWS, "outbound|9080|v2|" + REVIEWS, "outbound|9080|v3|" + REVIEWS,
        "outbound|9080|v2-mysql-vm|ratings.default.svc.cluster.local", "inbound|9080||", "BlackHoleCluster", "PassthroughCluster");
    Cluster v2 = x.clusters().stream().filter(c -> c.getName().equals("outbound|9080|v2|" + REVIEWS)).findFirst().orElseThrow();
    assertThat(v2.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
    assertThat(v2.getEdsClusterConfig().getServiceName()).isEqualTo(v2.getName());
    assertThat(v2.getEdsClusterConfig().getEdsConfig().hasAds()).isTrue();
    assertThat(v2.getLbPolicy()).isEqualTo(Cluster.LbPolicy.LEAST_REQUEST);
    assertThat(v2.getConnectTimeout().getSeconds()).isEqualTo(10);
    assertThat(v2.getCircuitBreakers().getThresholds(0).getMaxRequests().getValue()).isEqualTo(-1); // 4294967295 unsigned
    assertThat(v2.getMetadata().getFilterMetadataOrThrow("istio").getFieldsOrThrow("subset").getStringValue()).isEqualTo("v2");
    ClusterLoadAssignment v2Endpoints = x.endpoints().stream().filter(e -> e.getClusterName().equals(v2.getName())).findFirst().orElseThrow();
    assertThat(v2Endpoints.getEndpoints(0).getLbEndpointsList()).singleElement().satisfies(e -> {
      assertThat(e.getEndpoint().getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.1.4");
      assertThat(e.getEndpoint().getAddress().getSocketAddress().getPortValue()).isEqualTo(9080);
      assertThat(e.getMetadata().getFilterMetadataOrThrow("istio").getFieldsOrThrow("workload").getStringValue())
          .isEqualTo("reviews-v2;default;reviews;v2;Kubernetes");
    });
    ClusterLoadAssignment all = x.endpoints().stream().filter(e -> e.getClusterName().equals("outbound|9080||" + REVIEWS)).findFirst().orElseThrow();
    assertThat(all.getEndpoints(0).getLbEndpointsCount()).isEqualTo(3);
  }

  @Test
  void allV1RoutesEveryServiceToSubsetV1() {
    XdsResources x = Bookinfo.translate(Bookinfo.PRODUCTPAGE, "virtual-service-all-v1.yaml");
    for (String svc : List.of("productpage", "reviews", "ratings", "details")) {
      String host = svc + ".default.svc.cluster.local";
      Route r = vhost(x, "http_proxy", host + ":9080").getRoutes(0);
      assertThat(clusters(r)).containsExactly("outbound|9080|v1|" + host);
      assertThat(r.getMetadata().getFilterMetadataOrThrow("istio").getFieldsOrThrow("config").getStringValue())
          .isEqualTo("/apis/networking.istio.io/v1alpha3/namespaces/default/virtual-service/" + svc);
      assertThat(r.getDecorator().getOperation()).isEqualTo(host + ":9080/*");
    }
  }

  @Test
  void weightsBecomeWeightedClusters() {
    record Split(String file, String a, int wa, String b, int wb) {}
    for (Split s : List.of(new Split("virtual-service-reviews-50-v3.yaml", "v1", 50, "v3", 50),
        new Split("virtual-service-reviews-80-20.yaml", "v1", 80, "v2", 20),
        new Split("virtual-service-reviews-90-10.yaml", "v1", 90, "v2", 10),
        new Split("virtual-service-reviews-v2-v3.yaml", "v2", 50, "v3", 50))) {
      Route r = vhost(Bookinfo.translate(Bookinfo.PRODUCTPAGE, s.file()), "http_proxy", REVIEWS + ":9080").getRoutes(0);
      assertThat(r.getRoute().getWeightedClusters().getClustersList()).as(s.file())
          .extracting(WeightedCluster.ClusterWeight::getName, c -> c.getWeight().getValue())
          .containsExactly(org.assertj.core.groups.Tuple.tuple("outbound|9080|" + s.a() + "|" + REVIEWS, s.wa()),
              org.assertj.core.groups.Tuple.tuple("outbound|9080|" + s.b() + "|" + REVIEWS, s.wb()));
    }
    Route v3 = vhost(Bookinfo.translate(Bookinfo.PRODUCTPAGE, "virtual-service-reviews-v3.yaml"), "http_proxy", REVIEWS + ":9080").getRoutes(0);
    assertThat(v3.getRoute().getCluster()).isEqualTo("outbound|9080|v3|" + REVIEWS);
  }

  @Test
  void headerMatchesAsStringMatch() {
    for (String file : List.of("virtual-service-reviews-test-v2.yaml", "virtual-service-reviews-jason-v2-v3.yaml")) {
      VirtualHost vh = vhost(Bookinfo.translate(Bookinfo.PRODUCTPAGE, file), "http_proxy", REVIEWS + ":9080");
      assertThat(vh.getRoutesCount()).isEqualTo(2);
      Route jason = vh.getRoutes(0);
      assertThat(jason.getMatch().getPrefix()).isEqualTo("/");
      assertThat(jason.getMatch().getHeadersList()).singleElement().satisfies(h -> {
        assertThat(h.getName()).isEqualTo("end-user");
        assertThat(h.getStringMatch().getExact()).isEqualTo("jason");
      });
      assertThat(jason.getRoute().getCluster()).isEqualTo("outbound|9080|v2|" + REVIEWS);
      assertThat(vh.getRoutes(1).getMatch().getHeadersCount()).isZero();
      assertThat(vh.getRoutes(1).getRoute().getCluster())
          .isEqualTo("outbound|9080|" + (file.contains("test-v2") ? "v1" : "v3") + "|" + REVIEWS);
    }
  }

  @Test
  void faultsAsPerRouteFaultConfig() throws Exception {
    String ratings = "ratings.default.svc.cluster.local:9080";
    VirtualHost delay = vhost(Bookinfo.translate(Bookinfo.PRODUCTPAGE, "virtual-service-ratings-test-delay.yaml"), "http_proxy", ratings);
    HTTPFault d = delay.getRoutes(0).getTypedPerFilterConfigOrThrow("envoy.filters.http.fault").unpack(HTTPFault.class);
    assertThat(d.getDelay().getFixedDelay().getSeconds()).isEqualTo(7);
    assertThat(d.getDelay().getPercentage().getNumerator()).isEqualTo(1_000_000);
    assertThat(d.getDelay().getPercentage().getDenominator()).isEqualTo(FractionalPercent.DenominatorType.MILLION);
    assertThat(d.hasAbort()).isFalse();
    assertThat(delay.getRoutes(1).getTypedPerFilterConfigMap()).isEmpty();

    VirtualHost abort = vhost(Bookinfo.translate(Bookinfo.PRODUCTPAGE, "virtual-service-ratings-test-abort.yaml"), "http_proxy", ratings);
    HTTPFault a = abort.getRoutes(0).getTypedPerFilterConfigOrThrow("envoy.filters.http.fault").unpack(HTTPFault.class);
    assertThat(a.getAbort().getHttpStatus()).isEqualTo(500);
    assertThat(a.getAbort().getPercentage().getNumerator()).isEqualTo(1_000_000);
    assertThat(abort.getRoutes(0).getMatch().getHeaders(0).getStringMatch().getExact()).isEqualTo("jason");

    VirtualHost details = vhost(Bookinfo.translate(Bookinfo.PRODUCTPAGE, "fault-injection-details-v1.yaml"), "http_proxy",
        "details.default.svc.cluster.local:9080");
    assertThat(details.getRoutes(0).getTypedPerFilterConfigOrThrow("envoy.filters.http.fault").unpack(HTTPFault.class)
        .getAbort().getHttpStatus()).isEqualTo(555);
    assertThat(details.getRoutes(1).getRoute().getCluster()).isEqualTo("outbound|9080|v1|details.default.svc.cluster.local");
    Route v2 = vhost(Bookinfo.translate(Bookinfo.PRODUCTPAGE, "virtual-service-details-v2.yaml"), "http_proxy",
        "details.default.svc.cluster.local:9080").getRoutes(0);
    assertThat(v2.getRoute().getCluster()).isEqualTo("outbound|9080|v2|details.default.svc.cluster.local");
  }

  @Test
  void gatewayGetsServerListenersAndTheBoundVirtualServicesRoutes() throws Exception {
    XdsResources x = Bookinfo.translate(Bookinfo.GATEWAY, "bookinfo-gateway.yaml");
    assertThat(x.listeners()).extracting(Listener::getName).containsExactly("0.0.0.0_8080");
    Listener l = x.listeners().getFirst();
    assertThat(l.getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.1");
    assertThat(l.getAddress().getSocketAddress().getPortValue()).isEqualTo(8080);
    HttpConnectionManager h = hcm(l, 0);
    assertThat(h.getStatPrefix()).isEqualTo("outbound_0.0.0.0_8080");
    assertThat(h.getRds().getRouteConfigName()).isEqualTo("http.8080");
    assertThat(h.getUseRemoteAddress().getValue()).isTrue();
    RouteConfiguration rc = routeConfig(x, "http.8080");
    assertThat(rc.getVirtualHostsList()).singleElement().satisfies(vh -> {
      assertThat(vh.getName()).isEqualTo("*:8080");
      assertThat(vh.getDomainsList()).containsExactly("*");
    });
    List<Route> routes = rc.getVirtualHosts(0).getRoutesList();
    assertThat(routes).extracting(r -> r.getMatch().getPath() + r.getMatch().getPrefix())
        .containsExactly("/productpage", "/static", "/login", "/logout", "/api/v1/products");
    assertThat(routes).allSatisfy(r -> {
      assertThat(r.getMatch().getCaseSensitive().getValue()).isTrue();
      assertThat(r.getRoute().getCluster()).isEqualTo("outbound|9080||productpage.default.svc.cluster.local");
    });
    assertThat(routes.get(1).getDecorator().getOperation()).isEqualTo("productpage.default.svc.cluster.local:9080/static*");
    assertThat(routes.get(0).getDecorator().getOperation()).isEqualTo("productpage.default.svc.cluster.local:9080/productpage");
    // The sidecars do not see a VirtualService bound only to the gateway.
    assertThat(vhost(Bookinfo.translate(Bookinfo.PRODUCTPAGE, "bookinfo-gateway.yaml"), "http_proxy",
        "productpage.default.svc.cluster.local:9080").getRoutes(0).getName()).isEqualTo("default");
    // No Gateway selecting it: a gateway has no listeners.
    assertThat(Bookinfo.translate(Bookinfo.GATEWAY).listeners()).isEmpty();
  }

  @Test
  void inboundListenerHandsToTheApplication() throws Exception {
    XdsResources x = Bookinfo.translate(Bookinfo.REVIEWS_V2);
    Listener in = listener(x, "127.0.1.4_9080");
    assertThat(in.getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.1.4");
    HttpConnectionManager h = hcm(in, 0);
    assertThat(h.getStatPrefix()).isEqualTo("inbound_0.0.0.0_9080");
    VirtualHost vh = h.getRouteConfig().getVirtualHosts(0);
    assertThat(h.getRouteConfig().getName()).isEqualTo("inbound|9080||");
    assertThat(vh.getName()).isEqualTo("inbound|http|9080");
    assertThat(vh.getRoutes(0).getRoute().getCluster()).isEqualTo("inbound|9080||");
    Cluster inbound = x.clusters().stream().filter(c -> c.getName().equals("inbound|9080||")).findFirst().orElseThrow();
    var address = inbound.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress();
    assertThat(address.getAddress()).isEqualTo("127.1.1.4");
    assertThat(address.getPortValue()).isEqualTo(9080);
  }

  @Test
  void transparentModeHasIstiosListenerShapes() throws Exception {
    ProxyNode node = ProxyNode.parse(Bookinfo.PRODUCTPAGE.id(), ProxyNode.Mode.TRANSPARENT);
    XdsResources x = Bookinfo.translate(node, "virtual-service-reviews-test-v2.yaml");
    assertThat(x.listeners()).extracting(Listener::getName).containsExactly("virtualOutbound", "0.0.0.0_9080", "virtualInbound");
    Listener outbound = listener(x, "virtualOutbound");
    assertThat(outbound.getUseOriginalDst().getValue()).isTrue();
    assertThat(outbound.getAddress().getSocketAddress().getPortValue()).isEqualTo(15001);
    Listener port = listener(x, "0.0.0.0_9080");
    assertThat(port.getBindToPort().getValue()).isFalse();
    assertThat(hcm(port, 0).getRds().getRouteConfigName()).isEqualTo("9080");
    VirtualHost reviews = vhost(x, "9080", REVIEWS + ":9080");
    assertThat(reviews.getDomainsList()).containsExactly(REVIEWS, REVIEWS + ":9080", "reviews", "reviews:9080",
        "reviews.default", "reviews.default:9080", "reviews.default.svc", "reviews.default.svc:9080", "10.96.1.3", "10.96.1.3:9080");
    assertThat(reviews.getRoutes(0).getRoute().getCluster()).isEqualTo("outbound|9080|v2|" + REVIEWS);
    Listener inbound = listener(x, "virtualInbound");
    assertThat(inbound.getAddress().getSocketAddress().getPortValue()).isEqualTo(15006);
    assertThat(inbound.getFilterChainsList()).extracting(c -> c.getName())
        .containsExactly("virtualInbound-blackhole", "inbound|9080||", "virtualInbound");
    assertThat(inbound.getFilterChains(1).getFilterChainMatch().getDestinationPort().getValue()).isEqualTo(9080);
    // Chains by the restored destination, never a hand-off to 0.0.0.0_9080 (outbound: it would loop back to 15006).
    assertThat(inbound.hasUseOriginalDst()).isFalse();
    assertThat(inbound.getListenerFilters(0).getName()).isEqualTo("envoy.filters.listener.original_dst");
    TcpProxy catchAll = inbound.getFilterChains(2).getFilters(0).getTypedConfig().unpack(TcpProxy.class);
    assertThat(catchAll.getCluster()).isEqualTo("InboundPassthroughClusterIpv4");
    Cluster passthrough = x.clusters().stream().filter(c -> c.getName().equals("InboundPassthroughClusterIpv4")).findFirst().orElseThrow();
    assertThat(passthrough.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
    assertThat(passthrough.getUpstreamBindConfig().getSourceAddress().getAddress()).isEqualTo("127.0.0.6");
    // To the app at the pod IP the client dialled, from 127.0.0.6 so iptables does not send it back to 15006.
    Cluster app = x.clusters().stream().filter(c -> c.getName().equals("inbound|9080||")).findFirst().orElseThrow();
    assertThat(app.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
    assertThat(app.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
    assertThat(app.getUpstreamBindConfig().getSourceAddress().getAddress()).isEqualTo("127.0.0.6");
    assertThat(app.hasLoadAssignment()).isFalse();
  }

  @Test
  void destinationRulePolicyBecomesClusterSettings() {
    var state = Bookinfo.state("destination-rule-reviews.yaml");
    var resources = new java.util.ArrayList<>(state.resources());
    resources.addAll(dev.sluice.mesh.istio.MeshYaml.parse("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings}
        spec:
          host: ratings
          trafficPolicy:
            connectionPool:
              tcp: {maxConnections: 10, connectTimeout: 250ms}
              http: {http1MaxPendingRequests: 5, http2MaxRequests: 20, maxRetries: 3, maxRequestsPerConnection: 1, idleTimeout: 30s}
            outlierDetection: {consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}
          subsets:
          - name: v1
            labels: {version: v1}
            trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
        """, "ratings-dr.yaml"));
    resources.removeIf(r -> r.key().equals("DestinationRule/default/ratings") && !r.source().startsWith("ratings-dr"));
    var s = new dev.sluice.mesh.model.MeshState(2, resources, Bookinfo.REGISTRY);
    assertThat(new IstioTranslator().validate(s)).isEmpty();
    XdsResources x = new IstioTranslator().translate(s, Bookinfo.PRODUCTPAGE);
    Cluster reviewsV1 = x.clusters().stream().filter(c -> c.getName().equals("outbound|9080|v1|" + REVIEWS)).findFirst().orElseThrow();
    assertThat(reviewsV1.getLbPolicy()).isEqualTo(Cluster.LbPolicy.RANDOM);
    Cluster ratings = x.clusters().stream().filter(c -> c.getName().equals("outbound|9080||ratings.default.svc.cluster.local")).findFirst().orElseThrow();
    assertThat(ratings.getConnectTimeout().getNanos()).isEqualTo(250_000_000);
    var t = ratings.getCircuitBreakers().getThresholds(0);
    assertThat(List.of(t.getMaxConnections().getValue(), t.getMaxPendingRequests().getValue(), t.getMaxRequests().getValue(),
        t.getMaxRetries().getValue())).containsExactly(10, 5, 20, 3);
    assertThat(ratings.getOutlierDetection().getConsecutive5Xx().getValue()).isEqualTo(2);
    assertThat(ratings.getOutlierDetection().getBaseEjectionTime().getSeconds()).isEqualTo(180);
    assertThat(ratings.getTypedExtensionProtocolOptionsMap()).containsKey("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
    Cluster ratingsV1 = x.clusters().stream().filter(c -> c.getName().equals("outbound|9080|v1|ratings.default.svc.cluster.local")).findFirst().orElseThrow();
    assertThat(ratingsV1.getLbPolicy()).isEqualTo(Cluster.LbPolicy.ROUND_ROBIN);
    assertThat(ratingsV1.getOutlierDetection().getInterval().getSeconds()).isEqualTo(1);
  }

  @Test
  void retriesTimeoutsMirrorsCorsRewritesRedirectsAndHeaders() throws Exception {
    var resources = new java.util.ArrayList<>(Bookinfo.state().resources());
    resources.addAll(dev.sluice.mesh.istio.MeshYaml.parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews}
        spec:
          hosts: [reviews]
          http:
          - name: legacy
            match: [{name: old, uri: {prefix: /old}, ignoreUriCase: true}]
            redirect: {uri: /reviews, redirectCode: 308}
          - match: [{uri: {regex: "/r/[0-9]+"}, queryParams: {debug: {exact: "1"}}, method: {exact: GET}}]
            rewrite: {uri: /reviews/, authority: reviews.internal}
            timeout: 2.5s
            retries: {attempts: 4, perTryTimeout: 1s, retryOn: "gateway-error,connect-failure,429"}
            mirror: {host: reviews, subset: v3}
            mirrorPercentage: {value: 12.5}
            corsPolicy: {allowOrigins: [{exact: "https://a.example"}], allowMethods: [GET, POST], maxAge: 24h, allowCredentials: true}
            headers: {request: {set: {x-a: "1"}, remove: [x-b]}, response: {add: {x-c: "2"}}}
            route: [{destination: {host: reviews, subset: v2}}]
          - retries: {attempts: 0}
            route: [{destination: {host: reviews, subset: v1}}]
        """, "rich.yaml"));
    var s = new dev.sluice.mesh.model.MeshState(3, resources, Bookinfo.REGISTRY);
    assertThat(new IstioTranslator().validate(s)).isEmpty();
    VirtualHost vh = new IstioTranslator().translate(s, Bookinfo.PRODUCTPAGE).routes().getFirst().getVirtualHostsList().stream()
        .filter(v -> v.getName().equals(REVIEWS + ":9080")).findFirst().orElseThrow();
    Route redirect = vh.getRoutes(0);
    assertThat(redirect.getName()).isEqualTo("legacy.old");
    assertThat(redirect.getMatch().getCaseSensitive().getValue()).isFalse();
    assertThat(redirect.getRedirect().getPathRedirect()).isEqualTo("/reviews");
    assertThat(redirect.getRedirect().getResponseCode().name()).isEqualTo("PERMANENT_REDIRECT");
    Route rich = vh.getRoutes(1);
    assertThat(rich.getMatch().getSafeRegex().getRegex()).isEqualTo("/r/[0-9]+");
    assertThat(rich.getMatch().getQueryParameters(0).getStringMatch().getExact()).isEqualTo("1");
    assertThat(rich.getMatch().getHeaders(0).getName()).isEqualTo(":method");
    var action = rich.getRoute();
    assertThat(action.getPrefixRewrite()).isEqualTo("/reviews/");
    assertThat(action.getHostRewriteLiteral()).isEqualTo("reviews.internal");
    assertThat(action.getTimeout().getSeconds()).isEqualTo(2);
    assertThat(action.getTimeout().getNanos()).isEqualTo(500_000_000);
    assertThat(action.getRetryPolicy().getNumRetries().getValue()).isEqualTo(4);
    assertThat(action.getRetryPolicy().getPerTryTimeout().getSeconds()).isEqualTo(1);
    assertThat(action.getRetryPolicy().getRetryOn()).isEqualTo("gateway-error,connect-failure,retriable-status-codes");
    assertThat(action.getRetryPolicy().getRetriableStatusCodesList()).containsExactly(429);
    assertThat(action.getRequestMirrorPolicies(0).getCluster()).isEqualTo("outbound|9080|v3|" + REVIEWS);
    assertThat(action.getRequestMirrorPolicies(0).getRuntimeFraction().getDefaultValue().getNumerator()).isEqualTo(125_000);
    var cors = rich.getTypedPerFilterConfigOrThrow("envoy.filters.http.cors")
        .unpack(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.class);
    assertThat(cors.getAllowOriginStringMatch(0).getExact()).isEqualTo("https://a.example");
    assertThat(cors.getAllowMethods()).isEqualTo("GET,POST");
    assertThat(cors.getMaxAge()).isEqualTo("86400");
    assertThat(rich.getRequestHeadersToAdd(0).getHeader().getKey()).isEqualTo("x-a");
    assertThat(rich.getRequestHeadersToRemoveList()).containsExactly("x-b");
    assertThat(rich.getResponseHeadersToAdd(0).getHeader().getKey()).isEqualTo("x-c");
    assertThat(vh.getRoutes(2).getRoute().hasRetryPolicy()).isFalse();
  }

  /** Bookinfo's state (destination-rule-all.yaml plus {@code files}) with the Sidecars of {@code yaml} added. */
  private static dev.sluice.mesh.model.MeshState withSidecars(String yaml, String... files) {
    var resources = new java.util.ArrayList<>(Bookinfo.state(files).resources());
    resources.addAll(dev.sluice.mesh.istio.MeshYaml.parse(yaml, "sidecar.yaml"));
    var state = new dev.sluice.mesh.model.MeshState(2, resources, Bookinfo.REGISTRY);
    assertThat(new IstioTranslator().validate(state)).isEmpty();
    return state;
  }

  private static List<String> clusterNames(XdsResources x) {
    return x.clusters().stream().map(Cluster::getName).toList();
  }

  private static final String PRODUCTPAGE_SEES_REVIEWS = """
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: productpage, namespace: default}
      spec:
        workloadSelector: {labels: {app: productpage}}
        egress:
        - hosts: [./reviews.default.svc.cluster.local]
      """;

  @Test
  void sidecarEgressHostsNarrowTheProxysOutboundConfig() throws Exception {
    var state = withSidecars(PRODUCTPAGE_SEES_REVIEWS);
    XdsResources x = new IstioTranslator().translate(state, Bookinfo.PRODUCTPAGE);
    assertThat(routeConfig(x, "http_proxy").getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly(REVIEWS + ":9080", "allow_any");
    assertThat(clusterNames(x)).containsExactly("outbound|9080||" + REVIEWS, "outbound|9080|v1|" + REVIEWS,
        "outbound|9080|v2|" + REVIEWS, "outbound|9080|v3|" + REVIEWS, "BlackHoleCluster", "PassthroughCluster", "inbound|9080||");
    assertThat(x.endpoints()).extracting(e -> e.getClusterName()).allMatch(n -> n.endsWith("|" + REVIEWS));
    // The inbound side is not the Sidecar's egress business.
    assertThat(x.listeners()).extracting(Listener::getName).containsExactly("127.0.1.6_9080", "127.0.1.6_15001");

    // Transparent: only reviews' virtual host on 9080 (no TCP services in Bookinfo to drop).
    XdsResources t = new IstioTranslator().translate(state, ProxyNode.parse(Bookinfo.PRODUCTPAGE.id(), ProxyNode.Mode.TRANSPARENT));
    assertThat(routeConfig(t, "9080").getVirtualHostsList()).extracting(VirtualHost::getName).containsExactly(REVIEWS + ":9080", "allow_any");

    // The selector picks productpage only: reviews still sees ratings.
    XdsResources reviews = new IstioTranslator().translate(state, Bookinfo.REVIEWS_V2);
    assertThat(clusterNames(reviews)).contains("outbound|9080||ratings.default.svc.cluster.local", "outbound|9080||details.default.svc.cluster.local");
  }

  @Test
  void sidecarScopeKeepsTheDestinationsOfVisibleVirtualServices() {
    var state = withSidecars(PRODUCTPAGE_SEES_REVIEWS + """
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews-to-ratings, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: ratings, subset: v1}
        """);
    XdsResources x = new IstioTranslator().translate(state, Bookinfo.PRODUCTPAGE);
    assertThat(clusterNames(x)).contains("outbound|9080|v1|ratings.default.svc.cluster.local")
        .noneMatch(n -> n.endsWith("details.default.svc.cluster.local"));
    assertThat(clusters(vhost(x, "http_proxy", REVIEWS + ":9080").getRoutes(0))).containsExactly("outbound|9080|v1|ratings.default.svc.cluster.local");
  }

  @Test
  void registryOnlyTurnsThePassthroughIntoTheBlackHole() throws Exception {
    var state = withSidecars("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: default}
        spec:
          outboundTrafficPolicy: {mode: REGISTRY_ONLY}
        """);
    // Explicit: istiod's block_all host answers 502 for any host outside the registry.
    XdsResources x = new IstioTranslator().translate(state, Bookinfo.PRODUCTPAGE);
    RouteConfiguration rc = routeConfig(x, "http_proxy");
    assertThat(rc.getVirtualHostsList()).extracting(VirtualHost::getName).endsWith("block_all").doesNotContain("allow_any").hasSize(5);
    VirtualHost blockAll = vhost(x, "http_proxy", "block_all");
    assertThat(blockAll.getDomainsList()).containsExactly("*");
    assertThat(blockAll.getRoutes(0).getDirectResponse().getStatus()).isEqualTo(502);
    assertThat(blockAll.getRoutes(0).hasRoute()).isFalse();

    // Transparent: the port route configs end in block_all and virtualOutbound's catch-all goes to BlackHoleCluster.
    XdsResources t = new IstioTranslator().translate(state, ProxyNode.parse(Bookinfo.PRODUCTPAGE.id(), ProxyNode.Mode.TRANSPARENT));
    assertThat(routeConfig(t, "9080").getVirtualHostsList()).extracting(VirtualHost::getName).last().isEqualTo("block_all");
    Listener outbound = listener(t, "virtualOutbound");
    assertThat(outbound.getFilterChainsList()).extracting(c -> c.getName()).containsExactly("virtualOutbound-blackhole", "virtualOutbound-catchall-tcp");
    TcpProxy catchAll = outbound.getFilterChains(1).getFilters(0).getTypedConfig().unpack(TcpProxy.class);
    assertThat(catchAll.getCluster()).isEqualTo("BlackHoleCluster");
    assertThat(catchAll.getStatPrefix()).isEqualTo("BlackHoleCluster");

    // Without a Sidecar (ALLOW_ANY, the default) the catch-all passes through.
    XdsResources open = Bookinfo.translate(ProxyNode.parse(Bookinfo.PRODUCTPAGE.id(), ProxyNode.Mode.TRANSPARENT));
    assertThat(listener(open, "virtualOutbound").getFilterChains(1).getFilters(0).getTypedConfig().unpack(TcpProxy.class).getCluster())
        .isEqualTo("PassthroughCluster");
    assertThat(vhost(open, "9080", "allow_any").getRoutes(0).getRoute().getCluster()).isEqualTo("PassthroughCluster");
  }

  @Test
  void theMostSpecificSidecarWins() {
    var state = withSidecars("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: istio-system}
        spec:
          outboundTrafficPolicy: {mode: REGISTRY_ONLY}
          egress:
          - hosts: ["*/*"]
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: default}
        spec:
          egress:
          - hosts: [./ratings.default.svc.cluster.local]
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: productpage, namespace: default}
        spec:
          workloadSelector: {labels: {app: productpage}}
          egress:
          - hosts: ["default/details.default.svc.cluster.local", "~/*"]
        """);
    IstioTranslator translator = new IstioTranslator();
    // Selector beats the namespace default; the mode is the Sidecar's own (ALLOW_ANY), not the root's.
    XdsResources productpage = translator.translate(state, Bookinfo.PRODUCTPAGE);
    assertThat(routeConfig(productpage, "http_proxy").getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("details.default.svc.cluster.local:9080", "allow_any");
    // The namespace default for the other workloads of default.
    XdsResources reviews = translator.translate(state, Bookinfo.REVIEWS_V2);
    assertThat(routeConfig(reviews, "http_proxy").getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("ratings.default.svc.cluster.local:9080", "allow_any");
    // A namespace without its own Sidecar gets the root namespace's: everything, REGISTRY_ONLY.
    XdsResources other = translator.translate(state,
        ProxyNode.parse("sidecar~127.0.9.9~client-1.other~other.svc.cluster.local", ProxyNode.Mode.EXPLICIT));
    assertThat(routeConfig(other, "http_proxy").getVirtualHostsList()).extracting(VirtualHost::getName).hasSize(5).last()
        .isEqualTo("block_all");
    // Gateways are not scoped by Sidecars.
    XdsResources gateway = translator.translate(state, Bookinfo.GATEWAY);
    assertThat(clusterNames(gateway)).contains("outbound|9080||details.default.svc.cluster.local", "outbound|9080||" + REVIEWS);
  }
}
