package dev.sluice.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.Cluster;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.ClusterManager;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.api.upstream.ResourceManager;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.extensions.load_balancing_policies.maglev.v3.Maglev;
import io.envoyproxy.envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ClusterManagerImplTest {
  private static final JsonFormat.Parser JSON = JsonFormat.parser().usingTypeRegistry(
      JsonFormat.TypeRegistry.newBuilder()
          .add(HttpProtocolOptions.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor())
          .add(com.google.protobuf.Empty.getDescriptor())
          .add(Maglev.getDescriptor())
          .add(RoundRobin.getDescriptor())
          .build());

  private final StatsStore stats = new StatsStore();
  private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
  private final Map<String, List<InetAddress>> dns = new ConcurrentHashMap<>();
  private final List<String> events = new CopyOnWriteArrayList<>();
  private final List<Host> removedHosts = new CopyOnWriteArrayList<>();
  private @Nullable ClusterManagerImpl manager;

  @AfterEach
  void tearDown() throws Exception {
    if (manager != null) {
      onControl(() -> {
        manager.close();
        return null;
      });
    }
    control.shutdownNow();
  }

  static io.envoyproxy.envoy.config.cluster.v3.Cluster cluster(String json) {
    var b = io.envoyproxy.envoy.config.cluster.v3.Cluster.newBuilder();
    try {
      JSON.merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    return b.build();
  }

  static ClusterLoadAssignment assignment(String json) {
    var b = ClusterLoadAssignment.newBuilder();
    try {
      JSON.merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    return b.build();
  }

  static String endpoint(String ip, int port) {
    return "{\"endpoint\":{\"address\":{\"socket_address\":{\"address\":\"" + ip + "\",\"port_value\":" + port + "}}}}";
  }

  static String staticCluster(String name, String... endpoints) {
    return "{\"name\":\"" + name + "\",\"type\":\"STATIC\",\"load_assignment\":{\"cluster_name\":\""
        + name + "\",\"endpoints\":[{\"lb_endpoints\":[" + String.join(",", endpoints) + "]}]}}";
  }

  private ClusterManagerImpl start(io.envoyproxy.envoy.config.cluster.v3.Cluster... clusters) {
    manager = new ClusterManagerImpl(List.of(clusters), stats, 3, control,
        name -> {
          List<InetAddress> answer = dns.get(name);
          if (answer == null) {
            return HostnameResolver.JDK.resolve(name);
          }
          return answer;
        }, null, 42);
    manager.addListener(new ClusterManager.ClusterUpdateListener() {
      @Override
      public void onClusterAddOrUpdate(Cluster cluster) {
        events.add("update:" + cluster.info().name());
      }

      @Override
      public void onClusterRemoval(String name) {
        events.add("remove:" + name);
      }

      @Override
      public void onHostsRemoved(Cluster cluster, Collection<Host> removed) {
        events.add("hostsRemoved:" + cluster.info().name());
        removedHosts.addAll(removed);
      }
    });
    return manager;
  }

  private <T> T onControl(Callable<T> task) throws Exception {
    return control.submit(task).get();
  }

  private long gauge(String name) {
    return stats.gauge(name).value();
  }

  private long counter(String name) {
    return stats.counter(name).value();
  }

  private static List<String> addresses(Cluster c) {
    return c.hostsByPriority().stream().flatMap(List::stream).map(Host::addressString).toList();
  }

  @Test
  void staticClusterIsActiveAtOnceWithItsHostsAndInfo() {
    ClusterManagerImpl cm = start(cluster("""
        {"name":"web","type":"STATIC","connect_timeout":"2s",
         "per_connection_buffer_limit_bytes":32768,
         "typed_extension_protocol_options":{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions":{
           "@type":"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
           "common_http_protocol_options":{"idle_timeout":"30s","max_requests_per_connection":100},
           "explicit_http_config":{"http2_protocol_options":{"max_concurrent_streams":50}}}},
         "upstream_bind_config":{"source_address":{"address":"127.0.0.1","port_value":0}},
         "load_assignment":{"endpoints":[{"lb_endpoints":[
           {"endpoint":{"address":{"socket_address":{"address":"127.0.0.1","port_value":9080}}}},
           {"endpoint":{"address":{"socket_address":{"address":"::1","port_value":9081}}},
            "load_balancing_weight":5}]}]}}
        """));
    Cluster web = cm.get("web");
    assertThat(web).isNotNull();
    assertThat(web.warming()).isFalse();
    assertThat(addresses(web)).containsExactly("127.0.0.1:9080", "[::1]:9081");
    ClusterInfo info = web.info();
    assertThat(info.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(info.perConnectionBufferLimitBytes()).isEqualTo(32768);
    assertThat(info.upstreamProtocol()).isEqualTo(ClusterInfo.UpstreamProtocol.HTTP2);
    assertThat(info.http2Options().getMaxConcurrentStreams().getValue()).isEqualTo(50);
    assertThat(info.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(info.maxRequestsPerConnection()).isEqualTo(100);
    assertThat(info.upstreamBindAddress()).isEqualTo(new InetSocketAddress("127.0.0.1", 0));
    assertThat(info.transportSocket()).isNull();
    assertThat(web.loadBalancer(0)).isNotSameAs(web.loadBalancer(1));
    assertThat(web.loadBalancer(2).chooseHost(LoadBalancerContext.NONE)).isNotNull();
    assertThat(gauge("cluster_manager.active_clusters")).isEqualTo(1);
    assertThat(counter("cluster_manager.cluster_added")).isEqualTo(1);
    assertThat(gauge("cluster.web.membership_total")).isEqualTo(2);
    assertThat(gauge("cluster.web.membership_healthy")).isEqualTo(2);
    assertThat(gauge("cluster.web.max_host_weight")).isEqualTo(5);
    assertThat(cm.initialized()).isDone();
  }

  @Test
  void defaultsAndLegacyProtocolFields() {
    ClusterManagerImpl cm = start(
        cluster(staticCluster("a", endpoint("10.0.0.1", 80))),
        cluster("""
            {"name":"b","type":"STATIC","http2_protocol_options":{},"max_requests_per_connection":7,
             "common_http_protocol_options":{"idle_timeout":"0s"}}
            """),
        cluster("""
            {"name":"c","type":"STATIC","protocol_selection":"USE_DOWNSTREAM_PROTOCOL"}
            """));
    ClusterInfo a = cm.get("a").info();
    assertThat(a.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(a.perConnectionBufferLimitBytes()).isEqualTo(1024 * 1024);
    assertThat(a.upstreamProtocol()).isEqualTo(ClusterInfo.UpstreamProtocol.HTTP1);
    assertThat(a.idleTimeout()).isEqualTo(Duration.ofHours(1));
    assertThat(a.maxRequestsPerConnection()).isZero();
    ClusterInfo b = cm.get("b").info();
    assertThat(b.upstreamProtocol()).isEqualTo(ClusterInfo.UpstreamProtocol.HTTP2);
    assertThat(b.maxRequestsPerConnection()).isEqualTo(7);
    assertThat(b.idleTimeout()).isZero();
    assertThat(cm.get("c").info().upstreamProtocol()).isEqualTo(ClusterInfo.UpstreamProtocol.USE_DOWNSTREAM);
  }

  /** {@code address.pipe} endpoints: STATIC hosts named by their path; bad pipes name the field. */
  @Test
  void pipeEndpointsInStaticClusters() {
    ClusterManagerImpl cm = start(cluster("""
        {"name":"xds","type":"STATIC","load_assignment":{"endpoints":[{"lb_endpoints":[
          {"endpoint":{"address":{"pipe":{"path":"./etc/istio/proxy/XDS"}}}},
          {"endpoint":{"address":{"pipe":{"path":"@abstract"}}}}]}]}}
        """));
    Cluster xds = cm.get("xds");
    assertThat(addresses(xds)).containsExactly("./etc/istio/proxy/XDS", "@abstract");
    Host first = xds.hostsByPriority().getFirst().getFirst();
    assertThat(first.socketAddress()).isEqualTo(new io.netty.channel.unix.DomainSocketAddress("./etc/istio/proxy/XDS"));
    assertThat(first.address().isUnresolved()).isTrue();
    assertThat(first.address().getHostString()).isEqualTo("./etc/istio/proxy/XDS");
    assertThat(((io.netty.channel.unix.DomainSocketAddress) xds.hostsByPriority().getFirst().get(1).socketAddress())
        .path()).isEqualTo("\0abstract");
  }

  @Test
  void badPipesAndPipesInDnsClustersAreRefused() {
    assertPath("clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.pipe.path", """
        {"name":"p","type":"STATIC","load_assignment":{"endpoints":[{"lb_endpoints":[
          {"endpoint":{"address":{"pipe":{"path":""}}}}]}]}}
        """);
    assertPath("clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.pipe.path", """
        {"name":"p","type":"STATIC","load_assignment":{"endpoints":[{"lb_endpoints":[
          {"endpoint":{"address":{"pipe":{"path":"/%s"}}}}]}]}}
        """.formatted("x".repeat(107)));
    assertPath("clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address", """
        {"name":"p","type":"STRICT_DNS","load_assignment":{"endpoints":[{"lb_endpoints":[
          {"endpoint":{"address":{"pipe":{"path":"/tmp/x"}}}}]}]}}
        """);
  }

  /** Istio's xds-grpc cluster: the legacy field next to HttpProtocolOptions is taken, as Envoy does. */
  @Test
  void legacyMaxRequestsPerConnectionNextToHttpProtocolOptions() throws Exception {
    String typed = """
        "typed_extension_protocol_options":{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions":{
          "@type":"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
          %s"explicit_http_config":{"http2_protocol_options":{}}}}""";
    ClusterManagerImpl cm = start(cluster("""
        {"name":"xds","type":"STATIC","max_requests_per_connection":1,%s}
        """.formatted(typed.formatted(""))));
    assertThat(cm.get("xds").info().maxRequestsPerConnection()).isEqualTo(1);
    assertThat(cm.get("xds").info().upstreamProtocol()).isEqualTo(ClusterInfo.UpstreamProtocol.HTTP2);
    onControl(() -> {
      cm.close();
      return null;
    });
    manager = null;
    // Both the legacy field and common_http_protocol_options.max_requests_per_connection: refused.
    assertPath("clusters[0].max_requests_per_connection", """
        {"name":"both","type":"STATIC","max_requests_per_connection":1,%s}
        """.formatted(typed.formatted("\"common_http_protocol_options\":{\"max_requests_per_connection\":5},")));
  }

  @Test
  void circuitBreakersUseEnvoyDefaultsAndReportOpenAndRemaining() {
    ClusterManagerImpl cm = start(cluster("""
        {"name":"cb","type":"STATIC","circuit_breakers":{"thresholds":[
          {"priority":"HIGH","max_connections":1},
          {"max_connections":2,"track_remaining":true}]}}
        """));
    ResourceManager rm = cm.get("cb").info().resourceManager();
    assertThat(rm.connections().max()).isEqualTo(2);
    assertThat(rm.pendingRequests().max()).isEqualTo(1024);
    assertThat(rm.requests().max()).isEqualTo(1024);
    assertThat(rm.retries().max()).isEqualTo(3);
    assertThat(rm.connectionPools().max()).isEqualTo(Long.MAX_VALUE);
    rm.connections().inc();
    assertThat(rm.connections().canCreate()).isTrue();
    assertThat(gauge("cluster.cb.circuit_breakers.default.remaining_cx")).isEqualTo(1);
    rm.connections().inc();
    assertThat(rm.connections().canCreate()).isFalse();
    assertThat(gauge("cluster.cb.circuit_breakers.default.cx_open")).isEqualTo(1);
    assertThat(gauge("cluster.cb.circuit_breakers.default.remaining_cx")).isZero();
    rm.connections().dec();
    assertThat(gauge("cluster.cb.circuit_breakers.default.cx_open")).isZero();
    assertThat(rm.connections().count()).isEqualTo(1);
  }

  @Test
  void circuitBreakerLimitsAreUnsigned() {
    // Istio sends 4294967295 ("unlimited") for every limit; protobuf-java hands uint32 over as a signed int.
    ClusterManagerImpl cm = start(cluster("""
        {"name":"istio","type":"STATIC","circuit_breakers":{"thresholds":[{"max_connections":4294967295,
          "max_pending_requests":4294967295,"max_requests":4294967295,"max_retries":4294967295}]}}
        """));
    ResourceManager rm = cm.get("istio").info().resourceManager();
    assertThat(List.of(rm.connections().max(), rm.pendingRequests().max(), rm.requests().max(), rm.retries().max()))
        .containsOnly(4294967295L);
    assertThat(rm.requests().canCreate()).isTrue();
  }

  @Test
  void validationErrorsNameTheField() {
    String good = staticCluster("ok", endpoint("10.0.0.1", 80));
    assertPath("clusters[2].load_assignment.endpoints[0].lb_endpoints[1].endpoint.address.socket_address.port_value",
        good, staticCluster("ok2"), staticCluster("bad", endpoint("10.0.0.1", 80), endpoint("10.0.0.2", 0)));
    assertPath("clusters[0].connect_timeout", "{\"name\":\"x\",\"connect_timeout\":\"-1s\"}");
    assertPath("clusters[0].connect_timeout", "{\"name\":\"x\",\"connect_timeout\":\"0s\"}");
    assertPath("clusters[1].name", good, good);
    assertPath("clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address",
        staticCluster("x", endpoint("not-an-ip.example", 80)));
    assertPath("clusters[0].cluster_type",
        "{\"name\":\"x\",\"cluster_type\":{\"name\":\"envoy.clusters.aggregate\"}}");
    assertPath("clusters[0].maglev_lb_config.table_size",
        "{\"name\":\"x\",\"lb_policy\":\"MAGLEV\",\"maglev_lb_config\":{\"table_size\":1000}}");
    assertPath("clusters[0].least_request_lb_config.choice_count",
        "{\"name\":\"x\",\"lb_policy\":\"LEAST_REQUEST\",\"least_request_lb_config\":{\"choice_count\":1}}");
    assertPath("clusters[0].lb_policy", "{\"name\":\"x\",\"type\":\"ORIGINAL_DST\"}");
    assertPath("clusters[0].lb_policy", "{\"name\":\"x\",\"lb_policy\":\"CLUSTER_PROVIDED\"}");
    assertPath("clusters[0].load_assignment", """
        {"name":"x","type":"LOGICAL_DNS","load_assignment":{"endpoints":[{"lb_endpoints":[
          {"endpoint":{"address":{"socket_address":{"address":"a.example","port_value":1}}}},
          {"endpoint":{"address":{"socket_address":{"address":"b.example","port_value":1}}}}]}]}}
        """);
    assertPath("clusters[0].typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]", """
        {"name":"x","http2_protocol_options":{},
         "typed_extension_protocol_options":{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions":{
           "@type":"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
           "explicit_http_config":{"http_protocol_options":{}}}}}
        """);
    assertPath("clusters[0].load_balancing_policy", """
        {"name":"x","load_balancing_policy":{"policies":[{"typed_extension_config":{"name":"u",
          "typed_config":{"@type":"type.googleapis.com/google.protobuf.Empty"}}}]}}
        """);
    // The transport socket is checked when the cluster is built, not when a pool first needs it.
    assertPath("clusters[0].transport_socket.typed_config", """
        {"name":"x","transport_socket":{"name":"t","typed_config":{"@type":"type.googleapis.com/google.protobuf.Empty"}}}
        """);
    assertPath("clusters[0].transport_socket.typed_config.common_tls_context.tls_params", """
        {"name":"x","transport_socket":{"name":"envoy.transport_sockets.tls","typed_config":{
          "@type":"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
          "common_tls_context":{"tls_params":{"tls_minimum_protocol_version":"TLSv1_3",
            "tls_maximum_protocol_version":"TLSv1_2"}}}}}
        """);
    var unknownPolicy = cluster("{\"name\":\"x\"}").toBuilder().setLbPolicyValue(99).build();
    assertThatThrownBy(() -> start(unknownPolicy))
        .isInstanceOfSatisfying(ConfigException.class,
            e -> assertThat(e.fieldPath()).isEqualTo("clusters[0].lb_policy"));
  }

  private void assertPath(String path, String... clusters) {
    List<io.envoyproxy.envoy.config.cluster.v3.Cluster> protos = new ArrayList<>();
    for (String c : clusters) {
      protos.add(cluster(c));
    }
    assertThatThrownBy(() -> start(protos.toArray(new io.envoyproxy.envoy.config.cluster.v3.Cluster[0])))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo(path));
  }

  @Test
  void typedLoadBalancingPolicyFirstSupportedWins() throws Exception {
    ClusterManagerImpl cm = start(cluster("""
        {"name":"m","type":"STATIC","lb_policy":"LOAD_BALANCING_POLICY_CONFIG",
         "load_balancing_policy":{"policies":[
           {"typed_extension_config":{"name":"unknown","typed_config":{"@type":"type.googleapis.com/google.protobuf.Empty"}}},
           {"typed_extension_config":{"name":"maglev","typed_config":{
             "@type":"type.googleapis.com/envoy.extensions.load_balancing_policies.maglev.v3.Maglev","table_size":131}}},
           {"typed_extension_config":{"name":"rr","typed_config":{
             "@type":"type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin"}}}]},
         "load_assignment":{"endpoints":[{"lb_endpoints":[%s,%s,%s]}]}}
        """.formatted(endpoint("10.0.0.1", 80), endpoint("10.0.0.2", 80), endpoint("10.0.0.3", 80))));
    ClusterImpl m = (ClusterImpl) cm.get("m");
    assertThat(m.lbConfig().policy()).isEqualTo(dev.sluice.lb.LbConfig.Policy.MAGLEV);
    assertThat(m.lbConfig().maglevTableSize()).isEqualTo(131);
    LoadBalancerContext key = new LoadBalancerContext() {
      @Override
      public boolean hasHashKey() {
        return true;
      }

      @Override
      public long hashKey() {
        return 12345;
      }
    };
    Host picked = m.loadBalancer(0).chooseHost(key);
    assertThat(m.loadBalancer(1).chooseHost(key)).isSameAs(picked);
  }

  @Test
  void edsClusterWarmsOnFirstAssignmentAndKeepsHostIdentity() throws Exception {
    ClusterManagerImpl cm = start(cluster("""
        {"name":"reviews","type":"EDS","eds_cluster_config":{"service_name":"outbound|9080||reviews"}}
        """));
    assertThat(cm.get("reviews")).isNull();
    assertThat(gauge("cluster_manager.warming_clusters")).isEqualTo(1);
    assertThat(cm.initialized()).isNotDone();

    onControl(() -> {
      cm.updateLoadAssignment("outbound|9080||reviews", assignment("""
          {"cluster_name":"outbound|9080||reviews","endpoints":[{"lb_endpoints":[%s,%s]}]}
          """.formatted(endpoint("10.1.0.1", 9080), endpoint("10.1.0.2", 9080))));
      return null;
    });
    Cluster reviews = cm.get("reviews");
    assertThat(reviews).isNotNull();
    assertThat(reviews.warming()).isFalse();
    assertThat(cm.initialized()).isDone();
    assertThat(events).containsExactly("update:reviews");
    assertThat(gauge("cluster_manager.warming_clusters")).isZero();
    Host kept = reviews.hostsByPriority().get(0).get(1);
    kept.stats().rqTotal.add(3);

    onControl(() -> {
      cm.updateLoadAssignment("outbound|9080||reviews", assignment("""
          {"endpoints":[{"lb_endpoints":[
            {"endpoint":{"address":{"socket_address":{"address":"10.1.0.2","port_value":9080}}},
             "load_balancing_weight":3,"health_status":"DEGRADED"},
            {"endpoint":{"address":{"socket_address":{"address":"10.1.0.3","port_value":9080}}},
             "health_status":"UNHEALTHY"}]},
            {"priority":1,"lb_endpoints":[%s]}]}
          """.formatted(endpoint("10.1.0.4", 9080))));
      return null;
    });
    assertThat(cm.get("reviews")).isSameAs(reviews);
    assertThat(addresses(reviews)).containsExactly("10.1.0.2:9080", "10.1.0.3:9080", "10.1.0.4:9080");
    Host same = reviews.hostsByPriority().get(0).get(0);
    assertThat(same).isSameAs(kept);
    assertThat(same.stats().rqTotal.sum()).isEqualTo(3);
    assertThat(same.weight()).isEqualTo(3);
    assertThat(same.degraded()).isTrue();
    assertThat(same.healthy()).isFalse();
    assertThat(reviews.hostsByPriority().get(0).get(1).healthy()).isFalse();
    assertThat(reviews.hostsByPriority().get(1)).hasSize(1);
    assertThat(events).containsExactly("update:reviews", "hostsRemoved:reviews");
    assertThat(removedHosts).extracting(Host::addressString).containsExactly("10.1.0.1:9080");
    assertThat(gauge("cluster.reviews.membership_total")).isEqualTo(3);
    assertThat(gauge("cluster.reviews.membership_healthy")).isEqualTo(1);
    assertThat(gauge("cluster.reviews.membership_degraded")).isEqualTo(1);
    assertThat(counter("cluster.reviews.membership_change")).isEqualTo(2);
    assertThat(counter("cluster.reviews.update_success")).isEqualTo(2);
  }

  @Test
  void validateChecksAClusterWithoutAddingItOrKeepingItsStats() throws Exception {
    ClusterManagerImpl cm = start();
    var bad = cluster("""
        {"name":"later","type":"STATIC","load_assignment":{"cluster_name":"later","endpoints":[{"lb_endpoints":[%s]}]}}
        """.formatted(endpoint("10.0.0.1", 70000)));
    assertThatThrownBy(() -> onControl(() -> {
      cm.validate(bad);
      return null;
    })).cause().isInstanceOfSatisfying(ConfigException.class,
        e -> assertThat(e.fieldPath()).startsWith("load_assignment.endpoints[0].lb_endpoints[0]"));

    onControl(() -> {
      cm.validate(cluster(staticCluster("later", endpoint("10.0.0.1", 80))));
      return null;
    });
    assertThat(cm.get("later")).isNull();
    assertThat(events).isEmpty();
    assertThat(stats.counters()).noneMatch(c -> c.name().startsWith("cluster.later."));
    assertThat(counter("cluster_manager.cluster_added")).isZero();
  }

  @Test
  void invalidAssignmentIsRejectedWithAPathAndNotApplied() throws Exception {
    ClusterManagerImpl cm = start(cluster("{\"name\":\"e\",\"type\":\"EDS\"}"));
    assertThatThrownBy(() -> onControl(() -> {
      try {
        cm.updateLoadAssignment("e", assignment("""
            {"endpoints":[{"lb_endpoints":[%s,%s]}]}
            """.formatted(endpoint("10.0.0.1", 80), endpoint("10.0.0.2", 70000))));
      } catch (ConfigException e) {
        assertThat(e.fieldPath()).isEqualTo("endpoints[0].lb_endpoints[1].endpoint.address.socket_address.port_value");
        throw e;
      }
      return null;
    })).hasCauseInstanceOf(ConfigException.class);
    assertThat(cm.get("e")).isNull();
  }

  @Test
  void healthFlagsTakeEffectOnRefresh() throws Exception {
    ClusterManagerImpl cm = start(cluster(staticCluster("s", endpoint("10.0.0.1", 80), endpoint("10.0.0.2", 80),
        endpoint("10.0.0.3", 80))));
    ClusterImpl s = (ClusterImpl) cm.get("s");
    HostImpl first = (HostImpl) s.hostsByPriority().get(0).get(0);
    assertThat(first.setHealthFlag(HealthFlag.FAILED_ACTIVE_HC, true)).isTrue();
    onControl(() -> {
      s.refreshHealth();
      return null;
    });
    assertThat(first.healthy()).isFalse();
    for (int i = 0; i < 30; i++) {
      assertThat(s.loadBalancer(0).chooseHost(LoadBalancerContext.NONE)).isNotSameAs(first);
    }
    assertThat(gauge("cluster.s.membership_healthy")).isEqualTo(2);
  }

  @Test
  void panicModeCountsLbHealthyPanic() throws Exception {
    ClusterManagerImpl cm = start(cluster(staticCluster("p", endpoint("10.0.0.1", 80), endpoint("10.0.0.2", 80))));
    ClusterImpl p = (ClusterImpl) cm.get("p");
    for (Host h : p.hostsByPriority().get(0)) {
      ((HostImpl) h).setHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK, true);
    }
    onControl(() -> {
      p.refreshHealth();
      return null;
    });
    assertThat(p.loadBalancer(0).chooseHost(LoadBalancerContext.NONE)).isNotNull();
    assertThat(counter("cluster.p.lb_healthy_panic")).isEqualTo(1);
  }

  @Test
  void strictDnsResolvesLocalhost() {
    ClusterManagerImpl cm = start(cluster("""
        {"name":"dns","type":"STRICT_DNS","dns_lookup_family":"V4_ONLY",
         "load_assignment":{"endpoints":[{"lb_endpoints":[%s]}]}}
        """.formatted(endpoint("localhost", 8080))));
    await().atMost(Duration.ofSeconds(10)).until(() -> cm.get("dns") != null);
    Cluster c = cm.get("dns");
    assertThat(addresses(c)).contains("127.0.0.1:8080").allMatch(a -> !a.startsWith("["));
    assertThat(c.hostsByPriority().get(0).get(0).hostname()).isEqualTo("localhost");
    assertThat(cm.initialized()).isDone();
    assertThat(counter("cluster.dns.update_success")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void strictDnsRefreshFollowsAnswersAndKeepsIdentity() throws Exception {
    dns.put("svc.test", List.of(ip("10.0.0.1"), ip("10.0.0.2")));
    dns.put("other.test", List.of(ip("10.0.0.9")));
    ClusterManagerImpl cm = start(cluster("""
        {"name":"dns","type":"STRICT_DNS","dns_refresh_rate":"0.02s",
         "load_assignment":{"endpoints":[{"lb_endpoints":[%s,%s]}]}}
        """.formatted(endpoint("svc.test", 80), endpoint("other.test", 81))));
    await().until(() -> cm.get("dns") != null);
    Cluster c = cm.get("dns");
    assertThat(addresses(c)).containsExactlyInAnyOrder("10.0.0.1:80", "10.0.0.2:80", "10.0.0.9:81");
    Host kept = c.hostsByPriority().get(0).stream().filter(h -> h.addressString().equals("10.0.0.2:80")).findFirst().orElseThrow();

    dns.put("svc.test", List.of(ip("10.0.0.2"), ip("10.0.0.3")));
    await().until(() -> addresses(c).contains("10.0.0.3:80"));
    assertThat(addresses(c)).containsExactlyInAnyOrder("10.0.0.2:80", "10.0.0.3:80", "10.0.0.9:81");
    assertThat(c.hostsByPriority().get(0)).contains(kept);
    await().until(() -> removedHosts.stream().anyMatch(h -> h.addressString().equals("10.0.0.1:80")));
  }

  @Test
  void dnsLookupFamilies() throws Exception {
    List<InetAddress> both = List.of(ip("10.0.0.1"), ip("::1"));
    var v4 = io.envoyproxy.envoy.config.cluster.v3.Cluster.DnsLookupFamily.V4_ONLY;
    assertThat(DnsLookupFamily.filter(v4, both)).containsExactly(ip("10.0.0.1"));
    assertThat(DnsLookupFamily.filter(v4.forNumber(2), both)).containsExactly(ip("::1"));
    assertThat(DnsLookupFamily.filter(v4.forNumber(0), both)).containsExactly(ip("::1"));
    assertThat(DnsLookupFamily.filter(v4.forNumber(0), List.of(ip("10.0.0.1")))).containsExactly(ip("10.0.0.1"));
    assertThat(DnsLookupFamily.filter(v4.forNumber(3), both)).containsExactly(ip("10.0.0.1"));
    assertThat(DnsLookupFamily.filter(v4.forNumber(4), both)).containsExactly(ip("10.0.0.1"), ip("::1"));
  }

  @Test
  void logicalDnsHasOneHostFollowingTheFirstAddress() {
    dns.put("api.test", List.of(ip("10.0.0.5"), ip("10.0.0.6")));
    ClusterManagerImpl cm = start(cluster("""
        {"name":"logical","type":"LOGICAL_DNS","dns_refresh_rate":"0.02s",
         "load_assignment":{"endpoints":[{"lb_endpoints":[%s]}]}}
        """.formatted(endpoint("api.test", 443))));
    await().until(() -> cm.get("logical") != null);
    Cluster c = cm.get("logical");
    Host host = c.loadBalancer(0).chooseHost(LoadBalancerContext.NONE);
    assertThat(host.addressString()).isEqualTo("10.0.0.5:443");
    dns.put("api.test", List.of(ip("10.0.0.7")));
    await().until(() -> host.addressString().equals("10.0.0.7:443"));
    assertThat(c.loadBalancer(1).chooseHost(LoadBalancerContext.NONE)).isSameAs(host);
    assertThat(addresses(c)).hasSize(1);
  }

  @Test
  void originalDstCreatesHostsOnDemandAndCleansThemUp() throws Exception {
    ClusterManagerImpl cm = start(cluster("""
        {"name":"PassthroughCluster","type":"ORIGINAL_DST","lb_policy":"CLUSTER_PROVIDED",
         "cleanup_interval":"3600s","original_dst_lb_config":{"use_http_header":true}}
        """));
    Cluster c = cm.get("PassthroughCluster");
    InetSocketAddress dst = new InetSocketAddress("10.2.0.1", 8443);
    LoadBalancerContext byConnection = new LoadBalancerContext() {
      @Override
      public InetSocketAddress originalDestination() {
        return dst;
      }
    };
    Host h = c.loadBalancer(0).chooseHost(byConnection);
    assertThat(h.addressString()).isEqualTo("10.2.0.1:8443");
    assertThat(c.loadBalancer(1).chooseHost(byConnection)).isSameAs(h);
    Http2Headers headers = new DefaultHttp2Headers().add("x-envoy-original-dst-host", "10.3.0.1:80");
    Host fromHeader = c.loadBalancer(0).chooseHost(new LoadBalancerContext() {
      @Override
      public Http2Headers downstreamHeaders() {
        return headers;
      }

      @Override
      public InetSocketAddress originalDestination() {
        return dst;
      }
    });
    assertThat(fromHeader.addressString()).isEqualTo("10.3.0.1:80");
    Http2Headers bad = new DefaultHttp2Headers().add("x-envoy-original-dst-host", "not an address");
    assertThat(c.loadBalancer(0).chooseHost(new LoadBalancerContext() {
      @Override
      public Http2Headers downstreamHeaders() {
        return bad;
      }
    })).isNull();
    assertThat(c.loadBalancer(0).chooseHost(LoadBalancerContext.NONE)).isNull();
    onControl(() -> null); // the new hosts are published by tasks queued on the control thread
    assertThat(addresses(c)).containsExactlyInAnyOrder("10.2.0.1:8443", "10.3.0.1:80");

    // The timer runs every cleanup_interval; run its passes directly. A pass clears the used
    // marks, the next removes the hosts nobody picked in between.
    OriginalDstCluster odst = (OriginalDstCluster) c;
    onControl(() -> {
      odst.cleanup();
      return null;
    });
    assertThat(addresses(c)).hasSize(2);
    assertThat(c.loadBalancer(2).chooseHost(byConnection)).isSameAs(h);
    onControl(() -> {
      odst.cleanup();
      return null;
    });
    assertThat(addresses(c)).containsExactly("10.2.0.1:8443");
    assertThat(removedHosts).extracting(Host::addressString).containsExactly("10.3.0.1:80");
  }

  @Test
  void addUpdateAndRemoveThroughCds() throws Exception {
    ClusterManagerImpl cm = start();
    var a = cluster(staticCluster("a", endpoint("10.0.0.1", 80)));
    assertThat(onControl(() -> cm.addOrUpdateCluster(a))).isTrue();
    assertThat(onControl(() -> cm.addOrUpdateCluster(a))).isFalse();
    Cluster first = cm.get("a");
    var a2 = cluster(staticCluster("a", endpoint("10.0.0.2", 80)));
    assertThat(onControl(() -> cm.addOrUpdateCluster(a2))).isTrue();
    assertThat(cm.get("a")).isNotSameAs(first);
    assertThat(addresses(cm.get("a"))).containsExactly("10.0.0.2:80");
    assertThat(counter("cluster_manager.cluster_added")).isEqualTo(1);
    assertThat(counter("cluster_manager.cluster_modified")).isEqualTo(1);

    // An updated EDS cluster warms while the old version keeps serving.
    var eds = cluster("{\"name\":\"a\",\"type\":\"EDS\"}");
    onControl(() -> cm.addOrUpdateCluster(eds));
    assertThat(cm.get("a")).isNotNull();
    assertThat(addresses(cm.get("a"))).containsExactly("10.0.0.2:80");
    assertThat(gauge("cluster_manager.warming_clusters")).isEqualTo(1);
    onControl(() -> {
      cm.updateLoadAssignment("a", assignment("{\"endpoints\":[{\"lb_endpoints\":[" + endpoint("10.0.0.3", 80) + "]}]}"));
      return null;
    });
    assertThat(addresses(cm.get("a"))).containsExactly("10.0.0.3:80");

    assertThat(onControl(() -> cm.removeCluster("a"))).isTrue();
    assertThat(onControl(() -> cm.removeCluster("a"))).isFalse();
    assertThat(cm.get("a")).isNull();
    assertThat(counter("cluster_manager.cluster_removed")).isEqualTo(1);
    assertThat(gauge("cluster_manager.active_clusters")).isZero();
    assertThat(events).containsExactly("update:a", "update:a", "update:a", "remove:a");
  }

  @Test
  void aRemovedClusterLeavesTheWorkersMapAfterTheGracePeriodUnlessItComesBack() throws Exception {
    ClusterManagerImpl cm = start(cluster(staticCluster("a", endpoint("10.0.0.1", 80))),
        cluster(staticCluster("b", endpoint("10.0.0.2", 80))));
    List<Runnable> graces = new ArrayList<>();
    cm.removeAfter(graces::add);
    Cluster a = cm.get("a");

    assertThat(onControl(() -> cm.removeCluster("a"))).isTrue();
    assertThat(cm.get("a")).as("still there for requests routed on an older table").isSameAs(a);
    assertThat(events).isEmpty();
    onControl(() -> {
      graces.removeFirst().run();
      return null;
    });
    assertThat(cm.get("a")).isNull();
    assertThat(events).containsExactly("remove:a");

    // Removed, then added back (identical) before the grace period ends: it stays, the same version.
    Cluster b = cm.get("b");
    onControl(() -> cm.removeCluster("b"));
    onControl(() -> cm.addOrUpdateCluster(cluster(staticCluster("b", endpoint("10.0.0.2", 80)))));
    onControl(() -> {
      graces.removeFirst().run();
      return null;
    });
    assertThat(cm.get("b")).isSameAs(b);
    assertThat(events).containsExactly("remove:a");
    assertThat(gauge("cluster_manager.active_clusters")).isEqualTo(1);
  }

  @Test
  void edsAssignmentArrivingBeforeTheClusterIsUsed() throws Exception {
    ClusterManagerImpl cm = start();
    onControl(() -> {
      cm.updateLoadAssignment("late", assignment("{\"endpoints\":[{\"lb_endpoints\":[" + endpoint("10.0.0.8", 80) + "]}]}"));
      cm.addOrUpdateCluster(cluster("{\"name\":\"late\",\"type\":\"EDS\"}"));
      return null;
    });
    assertThat(addresses(cm.get("late"))).containsExactly("10.0.0.8:80");
  }

  private static InetAddress ip(String literal) {
    return com.google.common.net.InetAddresses.forString(literal);
  }
}
