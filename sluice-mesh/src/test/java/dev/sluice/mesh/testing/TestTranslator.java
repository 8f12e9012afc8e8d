package dev.sluice.mesh.testing;

import com.google.protobuf.Any;
import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.MeshState;
import dev.sluice.mesh.model.MeshTranslator;
import dev.sluice.mesh.model.ProxyNode;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ValidationMessage;
import dev.sluice.mesh.model.Workload;
import dev.sluice.mesh.model.XdsResources;
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
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A small {@link MeshTranslator} for the runtime's tests (the real one is
 * {@code dev.sluice.mesh.xds.IstioTranslator}), emitting real xDS shaped like istiod's: an EDS
 * cluster {@code outbound|port||host} per service port with its workloads as endpoints, a
 * listener {@value #LISTENER} on 127.0.0.1:0 with RDS route config {@value #ROUTE}, whose one
 * route goes to the service the last {@code VirtualService}'s first destination names (else the
 * first service). A resource of kind {@code Broken} adds a route with an invalid regex, which
 * the proxy rejects (NACK). Validation: every destination host must be a service.
 */
public final class TestTranslator implements MeshTranslator {
  public static final String LISTENER = "outbound";
  public static final String ROUTE = "80";

  @Override
  @SuppressWarnings("unchecked")
  public List<ValidationMessage> validate(MeshState state) {
    List<ValidationMessage> out = new ArrayList<>();
    for (MeshResource r : state.resources()) {
      if (!r.kind().equals("VirtualService")) {
        continue;
      }
      List<Map<String, Object>> http = (List<Map<String, Object>>) r.spec().getOrDefault("http", List.of());
      for (int i = 0; i < http.size(); i++) {
        List<Map<String, Object>> route = (List<Map<String, Object>>) http.get(i).getOrDefault("route", List.of());
        for (int j = 0; j < route.size(); j++) {
          String host = String.valueOf(((Map<String, Object>) route.get(j).get("destination")).get("host"));
          if (service(state, host) == null) {
            out.add(new ValidationMessage(ValidationMessage.Level.ERROR, r.source(), r.key(),
                "spec.http[" + i + "].route[" + j + "].destination.host", "host \"" + host + "\" is not a service in the registry"));
          }
        }
      }
    }
    return out;
  }

  private static MeshService service(MeshState state, String host) {
    return state.registry().services().stream()
        .filter(s -> s.name().equals(host) || s.hostname().equals(host)).findFirst().orElse(null);
  }

  @Override
  @SuppressWarnings("unchecked")
  public XdsResources translate(MeshState state, ProxyNode proxy) {
    List<Cluster> clusters = new ArrayList<>();
    List<ClusterLoadAssignment> endpoints = new ArrayList<>();
    for (MeshService s : state.registry().services()) {
      for (ServicePort p : s.ports()) {
        String name = clusterName(s, p);
        clusters.add(Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS)
            .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
            .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads()).setServiceName(name))
            .build());
        LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
        for (Workload w : state.registry().workloads()) {
          if (w.labels().entrySet().containsAll(s.selector().entrySet())) {
            locality.addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder()
                .setAddress(address(w.address(), p.targetPort()))));
          }
        }
        endpoints.add(ClusterLoadAssignment.newBuilder().setClusterName(name).addEndpoints(locality).build());
      }
    }
    MeshService target = state.registry().services().getFirst();
    boolean broken = false;
    for (MeshResource r : state.resources()) {
      broken |= r.kind().equals("Broken");
      if (r.kind().equals("VirtualService")) {
        Map<String, Object> first = ((List<Map<String, Object>>) r.spec().get("http")).getFirst();
        Map<String, Object> dest = (Map<String, Object>) ((List<Map<String, Object>>) first.get("route")).getFirst().get("destination");
        target = service(state, String.valueOf(dest.get("host")));
      }
    }
    VirtualHost.Builder vhost = VirtualHost.newBuilder().setName("all").addDomains("*");
    if (broken) {
      vhost.addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex("(")))
          .setRoute(RouteAction.newBuilder().setCluster(clusterName(target, target.ports().getFirst()))));
    }
    vhost.addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRoute(RouteAction.newBuilder().setCluster(clusterName(target, target.ports().getFirst()))));
    RouteConfiguration routes = RouteConfiguration.newBuilder().setName(ROUTE).addVirtualHosts(vhost).build();
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setStatPrefix(LISTENER)
        .setRds(Rds.newBuilder().setRouteConfigName(ROUTE).setConfigSource(ads()))
        .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router").setTypedConfig(Any.pack(Router.getDefaultInstance())))
        .build();
    Listener listener = Listener.newBuilder().setName(LISTENER).setAddress(address("127.0.0.1", 0))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm))))
        .build();
    return new XdsResources(clusters, endpoints, List.of(listener), List.of(routes));
  }

  private static String clusterName(MeshService s, ServicePort p) {
    return "outbound|" + p.port() + "||" + s.hostname();
  }

  private static ConfigSource ads() {
    return ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).setResourceApiVersion(ApiVersion.V3).build();
  }

  private static Address address(String ip, int port) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)).build();
  }
}
