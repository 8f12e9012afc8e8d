package dev.sluice.mesh.xds;

import dev.sluice.mesh.istio.Gateway;
import dev.sluice.mesh.istio.IstioConfig;
import dev.sluice.mesh.istio.IstioParser;
import dev.sluice.mesh.istio.IstioValidator;
import dev.sluice.mesh.istio.Protocols;
import dev.sluice.mesh.istio.Sidecar;
import dev.sluice.mesh.istio.VirtualService;
import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.MeshState;
import dev.sluice.mesh.model.MeshTranslator;
import dev.sluice.mesh.model.ProxyNode;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.ValidationMessage;
import dev.sluice.mesh.model.Workload;
import dev.sluice.mesh.model.XdsResources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@link MeshTranslator} producing xDS as istiod shapes it, per proxy:
 *
 * <ul>
 *   <li>sidecar, explicit mode (docs/mesh.md): per service port targeting the workload an inbound
 *       listener {@code <address>_<targetPort>} on the workload address to {@code inbound|<targetPort>||}
 *       (the application's address); an outbound HTTP proxy listener {@code <address>_15001} with
 *       the route config {@code http_proxy} holding every outbound virtual host (domains
 *       {@code host:port}, bare names for port 80) and {@code allow_any};
 *   <li>sidecar, transparent mode: {@code virtualOutbound} (15001, original destination, else
 *       {@code PassthroughCluster}), an unbound {@code 0.0.0.0_<port>} listener with RDS
 *       {@code <port>} per HTTP service port, {@code <vip>_<port>} TCP proxies for the others,
 *       {@code virtualInbound} (15006) with one chain per inbound port to {@code inbound|<port>||} and
 *       a catch-all to {@code InboundPassthroughClusterIpv4} (both ORIGINAL_DST from 127.0.0.6);
 *   <li>gateway ({@code router~}): per port of the Gateway servers selecting its labels a listener
 *       {@code 0.0.0.0_<port>} with RDS {@code http.<port>} whose virtual hosts come from the
 *       VirtualServices bound to those gateways;
 * </ul>
 * and to all, every outbound cluster ({@code outbound|port|subset|host}) with its EDS endpoints,
 * {@code BlackHoleCluster} and {@code PassthroughCluster}. A sidecar's {@code Sidecar} resource
 * (most specific first: selector, namespace default, root-namespace default) narrows its outbound
 * clusters, virtual hosts and listeners to the services its egress hosts name, and with
 * {@code REGISTRY_ONLY} turns the catch-alls into istiod's {@code block_all} (502) and
 * {@code BlackHoleCluster}.
 */
public final class IstioTranslator implements MeshTranslator {

  @Override
  public List<ValidationMessage> validate(MeshState state) {
    return IstioValidator.validate(IstioParser.parse(state.resources()), state.registry());
  }

  @Override
  public XdsResources translate(MeshState state, ProxyNode proxy) {
    IstioConfig config = IstioParser.parse(state.resources());
    ServiceRegistry registry = state.registry();
    Workload workload = workload(registry, proxy);
    // A gateway sees the whole registry; a sidecar what its Sidecar resource lets it see.
    Sidecar sidecar = proxy.isGateway() ? null
        : Sidecar.forWorkload(config.sidecars(), proxy.namespace(), workload.labels()).orElse(null);
    ServiceRegistry visible = sidecar == null ? registry : visibleTo(config, registry, sidecar, proxy.namespace());
    boolean registryOnly = sidecar != null && sidecar.registryOnly();
    ClusterBuilder.Outbound outbound = new ClusterBuilder(config, visible).outbound();
    List<Cluster> clusters = new ArrayList<>(outbound.clusters());
    clusters.add(ClusterBuilder.blackHole());
    clusters.add(ClusterBuilder.passthrough(proxy.mode() == ProxyNode.Mode.EXPLICIT));
    List<Listener> listeners = new ArrayList<>();
    List<RouteConfiguration> routes = new ArrayList<>();
    RouteBuilder routeBuilder = new RouteBuilder(config, registry);
    if (proxy.isGateway()) {
      gateway(config, routeBuilder, workload, proxy, listeners, routes);
    } else {
      RouteBuilder.Scope scope = RouteBuilder.Scope.mesh(workload.labels());
      List<Inbound> inbound = inbound(registry, workload);
      if (proxy.mode() == ProxyNode.Mode.EXPLICIT) {
        inbound.forEach(in -> clusters.add(ClusterBuilder.inbound(in.service(), in.port(), workload)));
        explicitSidecar(visible, routeBuilder, scope, workload, proxy, registryOnly, inbound, listeners, routes);
      } else {
        // The app listens on the pod IP, where iptables would send the proxy's own connection back
        // to 15006: transparent inbound clusters connect from 127.0.0.6, which the rules let through.
        inbound.forEach(in -> clusters.add(ClusterBuilder.inboundOriginalDst(in.service(), in.port())));
        clusters.add(ClusterBuilder.inboundPassthrough());
        transparentSidecar(visible, routeBuilder, scope, proxy, registryOnly, inbound, listeners, routes);
      }
    }
    return new XdsResources(clusters, outbound.endpoints(), listeners, routes);
  }

  /**
   * The registry as a proxy under {@code sidecar} sees it: the services its egress hosts name,
   * plus, as istiod adds them to the scope, the destinations of the mesh VirtualServices it sees
   * (so a visible host's routes never point at a cluster the proxy lacks).
   */
  private static ServiceRegistry visibleTo(IstioConfig config, ServiceRegistry registry, Sidecar sidecar, String proxyNamespace) {
    Set<String> hosts = new LinkedHashSet<>();
    for (MeshService s : registry.services()) {
      if (sidecar.sees(s.namespace(), s.hostname(), proxyNamespace)) {
        hosts.add(s.hostname());
      }
    }
    for (VirtualService vs : config.virtualServices()) {
      String ns = vs.resource().namespace();
      boolean mesh = vs.gateways().isEmpty() || vs.gateways().contains("mesh");
      if (!mesh || vs.hosts().stream().noneMatch(h -> sidecar.sees(ns, IstioConfig.resolveHost(h, ns), proxyNamespace))) {
        continue;
      }
      for (VirtualService.HttpRoute r : vs.http()) {
        r.route().forEach(d -> hosts.add(IstioConfig.resolveHost(d.destination().host(), ns)));
        if (r.mirror() != null) {
          hosts.add(IstioConfig.resolveHost(r.mirror().host(), ns));
        }
      }
    }
    return new ServiceRegistry(registry.services().stream().filter(s -> hosts.contains(s.hostname())).toList(), registry.workloads());
  }

  /**
   * The registry's workload of this proxy: the one of the node's pod name and namespace, else the
   * Deployment whose pods Kubernetes would name {@code <name>-<suffix>}; else one at the node's IP
   * with no labels.
   */
  private static Workload workload(ServiceRegistry registry, ProxyNode proxy) {
    return registry.workloads().stream()
        .filter(w -> w.namespace().equals(proxy.namespace()) && w.podName().equals(proxy.podName()))
        .findFirst()
        .or(() -> registry.workloads().stream()
            .filter(w -> w.namespace().equals(proxy.namespace()) && proxy.podName().startsWith(w.podName() + "-"))
            .findFirst())
        .orElse(new Workload(proxy.podName(), proxy.namespace(), Map.of(), "default", proxy.ip(), proxy.ip()));
  }

  /** A service port that sends traffic to this workload, one per target port (the first service to claim it wins, as in istiod). */
  private record Inbound(MeshService service, ServicePort port) {}

  private static List<Inbound> inbound(ServiceRegistry registry, Workload w) {
    Map<Integer, Inbound> byTarget = new LinkedHashMap<>();
    for (MeshService s : registry.services()) {
      if (s.selector().isEmpty() || !s.namespace().equals(w.namespace()) || !w.labels().entrySet().containsAll(s.selector().entrySet())) {
        continue;
      }
      for (ServicePort p : s.ports()) {
        byTarget.putIfAbsent(p.targetPort(), new Inbound(s, p));
      }
    }
    return List.copyOf(byTarget.values());
  }

  private static FilterChain inboundChain(Inbound in, boolean matchPort) {
    int target = in.port().targetPort();
    String cluster = IstioNames.inboundCluster(target);
    FilterChain.Builder chain = FilterChain.newBuilder().setName(cluster);
    if (matchPort) {
      chain.setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(com.google.protobuf.UInt32Value.of(target)));
    }
    if (Protocols.isHttp(in.port().protocol())) {
      RouteConfiguration rc = RouteConfiguration.newBuilder()
          .setName(cluster)
          .addVirtualHosts(VirtualHost.newBuilder()
              .setName("inbound|http|" + target)
              .addDomains("*")
              .addRoutes(Route.newBuilder()
                  .setName("default")
                  .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                  .setRoute(RouteAction.newBuilder().setCluster(cluster)
                      .setTimeout(com.google.protobuf.Duration.getDefaultInstance())
                      .setMaxStreamDuration(RouteAction.MaxStreamDuration.newBuilder()
                          .setMaxStreamDuration(com.google.protobuf.Duration.getDefaultInstance())
                          .setGrpcTimeoutHeaderMax(com.google.protobuf.Duration.getDefaultInstance())))
                  .setDecorator(io.envoyproxy.envoy.config.route.v3.Decorator.newBuilder()
                      .setOperation(in.service().hostname() + ":" + in.port().port() + "/*"))))
          .setValidateClusters(com.google.protobuf.BoolValue.of(false))
          .build();
      chain.addFilters(ListenerBuilder.hcmFilter(ListenerBuilder.inlineManager("inbound_0.0.0.0_" + target, rc)));
    } else {
      chain.addFilters(ListenerBuilder.tcpProxy(cluster, cluster));
    }
    return chain.build();
  }

  private static void explicitSidecar(ServiceRegistry registry, RouteBuilder rb, RouteBuilder.Scope scope, Workload w, ProxyNode proxy,
      boolean registryOnly, List<Inbound> inbound, List<Listener> listeners, List<RouteConfiguration> routes) {
    for (Inbound in : inbound) {
      int target = in.port().targetPort();
      listeners.add(ListenerBuilder.listener(IstioNames.listener(w.address(), target), w.address(), target,
          TrafficDirection.INBOUND, List.of(inboundChain(in, false))));
    }
    String name = IstioNames.listener(w.address(), IstioNames.EXPLICIT_OUTBOUND_PORT);
    listeners.add(ListenerBuilder.listener(name, w.address(), IstioNames.EXPLICIT_OUTBOUND_PORT, TrafficDirection.OUTBOUND,
        List.of(FilterChain.newBuilder()
            .addFilters(ListenerBuilder.hcmFilter(ListenerBuilder.rdsManager("outbound_" + name, IstioNames.HTTP_PROXY_ROUTE, false, true)))
            .build())));
    RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(IstioNames.HTTP_PROXY_ROUTE)
        .setValidateClusters(com.google.protobuf.BoolValue.of(false));
    for (MeshService s : registry.services()) {
      for (ServicePort p : s.ports()) {
        if (Protocols.isHttp(p.protocol())) {
          rc.addVirtualHosts(rb.serviceVirtualHost(s, p, Domains.forHttpProxy(s, p, proxy.namespace()), scope));
        }
      }
    }
    routes.add(rc.addVirtualHosts(RouteBuilder.catchAll(registryOnly)).build());
  }

  private static void transparentSidecar(ServiceRegistry registry, RouteBuilder rb, RouteBuilder.Scope scope, ProxyNode proxy,
      boolean registryOnly, List<Inbound> inbound, List<Listener> listeners, List<RouteConfiguration> routes) {
    listeners.add(ListenerBuilder.virtualOutbound(registryOnly));
    Map<Integer, RouteConfiguration.Builder> byPort = new TreeMap<>();
    for (MeshService s : registry.services()) {
      for (ServicePort p : s.ports()) {
        if (Protocols.isHttp(p.protocol())) {
          byPort.computeIfAbsent(p.port(), port -> RouteConfiguration.newBuilder().setName(Integer.toString(port))
                  .setValidateClusters(com.google.protobuf.BoolValue.of(false)))
              .addVirtualHosts(rb.serviceVirtualHost(s, p, Domains.forPort(s, p, proxy.namespace()), scope));
        } else {
          String name = IstioNames.listener(s.vip(), p.port());
          String cluster = IstioNames.outboundCluster(p.port(), "", s.hostname());
          listeners.add(ListenerBuilder.unbound(ListenerBuilder.listener(name, s.vip(), p.port(), TrafficDirection.OUTBOUND,
              List.of(FilterChain.newBuilder().addFilters(ListenerBuilder.tcpProxy(cluster, cluster)).build()))));
        }
      }
    }
    byPort.forEach((port, rc) -> {
      String name = IstioNames.listener("0.0.0.0", port);
      listeners.add(ListenerBuilder.unbound(ListenerBuilder.listener(name, "0.0.0.0", port, TrafficDirection.OUTBOUND,
          List.of(FilterChain.newBuilder()
              .addFilters(ListenerBuilder.hcmFilter(ListenerBuilder.rdsManager("outbound_" + name, Integer.toString(port), false, false)))
              .build()))));
      routes.add(rc.addVirtualHosts(RouteBuilder.catchAll(registryOnly)).build());
    });
    listeners.add(ListenerBuilder.virtualInbound(inbound.stream().map(in -> inboundChain(in, true)).toList()));
  }

  private static void gateway(IstioConfig config, RouteBuilder rb, Workload w, ProxyNode proxy, List<Listener> listeners,
      List<RouteConfiguration> routes) {
    // Servers by port, from every Gateway whose selector the gateway workload's labels satisfy.
    Map<Integer, List<Gateway>> gatewaysByPort = new TreeMap<>();
    Map<Integer, Set<String>> hostsByPort = new TreeMap<>();
    for (Gateway g : config.gateways()) {
      if (g.selector().isEmpty() || !w.labels().entrySet().containsAll(g.selector().entrySet())) {
        continue;
      }
      for (Gateway.Server s : g.servers()) {
        if (!Protocols.isHttp(Protocols.parse(s.protocol())) || s.protocol().equals(Protocols.UNSUPPORTED)) {
          continue;
        }
        List<Gateway> gs = gatewaysByPort.computeIfAbsent(s.port(), p -> new ArrayList<>());
        if (!gs.contains(g)) {
          gs.add(g);
        }
        hostsByPort.computeIfAbsent(s.port(), p -> new LinkedHashSet<>()).addAll(s.hosts());
      }
    }
    // In explicit mode the gateway binds its own (loopback) address under Istio's listener name.
    String bind = proxy.mode() == ProxyNode.Mode.EXPLICIT ? w.address() : "0.0.0.0";
    gatewaysByPort.forEach((port, gateways) -> {
      String name = IstioNames.listener("0.0.0.0", port);
      String routeName = "http." + port;
      listeners.add(ListenerBuilder.listener(name, bind, port, TrafficDirection.OUTBOUND, List.of(FilterChain.newBuilder()
          .addFilters(ListenerBuilder.hcmFilter(ListenerBuilder.rdsManager("outbound_" + name, routeName, true, false)))
          .build())));
      routes.add(gatewayRoutes(config, rb, routeName, port, gateways, hostsByPort.get(port)));
    });
  }

  /** {@code http.<port>}: a virtual host per VirtualService host (merging VirtualServices that share one), else istiod's 404 {@code blackhole} host. */
  private static RouteConfiguration gatewayRoutes(IstioConfig config, RouteBuilder rb, String routeName, int port, List<Gateway> gateways,
      Set<String> serverHosts) {
    Map<String, VirtualHost.Builder> byHost = new LinkedHashMap<>();
    for (Gateway g : gateways) {
      RouteBuilder.Scope scope = new RouteBuilder.Scope(g.qualifiedName(), Map.of());
      for (VirtualService vs : config.virtualServices()) {
        if (!scope.applies(vs.gateways(), vs.resource().namespace())) {
          continue;
        }
        List<Route> vsRoutes = rb.routes(vs, port, scope);
        for (String host : vs.hosts()) {
          if (!Domains.hostAllowed(host, serverHosts)) {
            continue;
          }
          byHost.computeIfAbsent(host, h -> VirtualHost.newBuilder()
                  .setName(h + ":" + port)
                  .addAllDomains(h.equals("*") ? List.of("*") : List.of(h, h + ":" + port))
                  .setIncludeRequestAttemptCount(true))
              .addAllRoutes(vsRoutes);
        }
      }
    }
    RouteConfiguration.Builder rc = RouteConfiguration.newBuilder().setName(routeName).setValidateClusters(com.google.protobuf.BoolValue.of(false));
    if (byHost.isEmpty()) {
      rc.addVirtualHosts(VirtualHost.newBuilder().setName("blackhole:" + port).addDomains("*")
          .addRoutes(Route.newBuilder().setName("default").setMatch(RouteMatch.newBuilder().setPrefix("/"))
              .setDirectResponse(DirectResponseAction.newBuilder().setStatus(404))));
    }
    byHost.values().forEach(rc::addVirtualHosts);
    return rc.build();
  }
}
