package dev.sluice.mesh.xds;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;

/**
 * Listeners and HTTP connection managers shaped as istiod's ({@code pilot/pkg/networking/core/listener*}):
 * stat prefixes {@code outbound_0.0.0.0_9080} / {@code inbound_0.0.0.0_9080}, RDS over ADS for
 * outbound and gateway routes, inline route configs for inbound, Istio's HTTP filter order
 * (fault, CORS, router: the telemetry and policy filters have no meaning in this mesh), websocket
 * upgrades, no stream idle timeout, path normalization with escaped slashes kept.
 */
final class ListenerBuilder {
  private static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";

  private ListenerBuilder() {}

  /** An HCM that takes its routes from RDS. */
  static HttpConnectionManager rdsManager(String statPrefix, String routeConfig, boolean gateway, boolean absoluteUrls) {
    HttpConnectionManager.Builder h = base(statPrefix, gateway)
        .setRds(Rds.newBuilder().setConfigSource(ClusterBuilder.ads()).setRouteConfigName(routeConfig));
    if (absoluteUrls) {
      // istiod's HTTP proxy listener: clients send absolute-form requests (GET http://reviews:9080/...).
      h.setHttpProtocolOptions(Http1ProtocolOptions.newBuilder().setAllowAbsoluteUrl(BoolValue.of(true)));
    }
    return h.build();
  }

  /** An inbound HCM with its inline route configuration. */
  static HttpConnectionManager inlineManager(String statPrefix, RouteConfiguration routes) {
    return base(statPrefix, false).setRouteConfig(routes).build();
  }

  private static HttpConnectionManager.Builder base(String statPrefix, boolean gateway) {
    return HttpConnectionManager.newBuilder()
        .setStatPrefix(statPrefix)
        .addAllHttpFilters(httpFilters())
        .setUseRemoteAddress(BoolValue.of(gateway))
        .addUpgradeConfigs(HttpConnectionManager.UpgradeConfig.newBuilder().setUpgradeType("websocket"))
        .setStreamIdleTimeout(com.google.protobuf.Duration.getDefaultInstance())
        .setNormalizePath(BoolValue.of(true))
        .setPathWithEscapedSlashesAction(HttpConnectionManager.PathWithEscapedSlashesAction.KEEP_UNCHANGED);
  }

  /** Fault, CORS, router, as istiod orders them. */
  static List<HttpFilter> httpFilters() {
    return List.of(
        HttpFilter.newBuilder().setName(IstioNames.FAULT).setTypedConfig(Any.pack(HTTPFault.getDefaultInstance())).build(),
        HttpFilter.newBuilder().setName(IstioNames.CORS).setTypedConfig(Any.pack(Cors.getDefaultInstance())).build(),
        HttpFilter.newBuilder().setName(IstioNames.ROUTER).setTypedConfig(Any.pack(Router.getDefaultInstance())).build());
  }

  static Filter hcmFilter(HttpConnectionManager hcm) {
    return Filter.newBuilder().setName(IstioNames.HCM).setTypedConfig(Any.pack(hcm)).build();
  }

  static Filter tcpProxy(String statPrefix, String cluster) {
    return Filter.newBuilder().setName(TCP_PROXY)
        .setTypedConfig(Any.pack(TcpProxy.newBuilder().setStatPrefix(statPrefix).setCluster(cluster).build()))
        .build();
  }

  static Listener listener(String name, String address, int port, TrafficDirection direction, List<FilterChain> chains) {
    return Listener.newBuilder()
        .setName(name)
        .setAddress(ClusterBuilder.address(address, port))
        .addAllFilterChains(chains)
        .setTrafficDirection(direction)
        .build();
  }

  /** Transparent mode's outbound port listener: bound by virtualOutbound's original-destination hand-off, not itself. */
  static Listener unbound(Listener l) {
    return l.toBuilder().setBindToPort(BoolValue.of(false)).build();
  }

  /**
   * {@code virtualOutbound}: everything iptables sends to 15001 goes to the listener of its
   * original destination, else through ({@code PassthroughCluster}), or under REGISTRY_ONLY into
   * {@code BlackHoleCluster} (the connection is closed), as istiod's catch-all chain does.
   */
  static Listener virtualOutbound(boolean registryOnly) {
    String catchAll = registryOnly ? IstioNames.BLACK_HOLE : IstioNames.PASSTHROUGH;
    return Listener.newBuilder()
        .setName("virtualOutbound")
        .setAddress(ClusterBuilder.address("0.0.0.0", IstioNames.EXPLICIT_OUTBOUND_PORT))
        .addFilterChains(FilterChain.newBuilder().setName("virtualOutbound-blackhole")
            .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(com.google.protobuf.UInt32Value.of(IstioNames.EXPLICIT_OUTBOUND_PORT)))
            .addFilters(tcpProxy(IstioNames.BLACK_HOLE, IstioNames.BLACK_HOLE)))
        .addFilterChains(FilterChain.newBuilder().setName("virtualOutbound-catchall-tcp")
            .addFilters(tcpProxy(catchAll, catchAll)))
        .setUseOriginalDst(BoolValue.of(true))
        .setTrafficDirection(TrafficDirection.OUTBOUND)
        .build();
  }

  /**
   * {@code virtualInbound}: the inbound chains, chosen by original destination port (the
   * {@code original_dst} listener filter restores it as the local address), then Istio's
   * catch-all {@code virtualInbound} chain passing any other port through to the pod from
   * 127.0.0.6. No {@code use_original_dst}, as istiod: a hand-off would find the outbound
   * {@code 0.0.0.0_<port>} listener of the same port, which sends the connection back to the pod's
   * own IP, where iptables returns it to 15006.
   */
  static Listener virtualInbound(List<FilterChain> chains) {
    return Listener.newBuilder()
        .setName("virtualInbound")
        .setAddress(ClusterBuilder.address("0.0.0.0", IstioNames.VIRTUAL_INBOUND_PORT))
        .addListenerFilters(ListenerFilter.newBuilder().setName("envoy.filters.listener.original_dst")
            .setTypedConfig(Any.pack(OriginalDst.getDefaultInstance())))
        .addFilterChains(FilterChain.newBuilder().setName("virtualInbound-blackhole")
            .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(com.google.protobuf.UInt32Value.of(IstioNames.VIRTUAL_INBOUND_PORT)))
            .addFilters(tcpProxy(IstioNames.BLACK_HOLE, IstioNames.BLACK_HOLE)))
        .addAllFilterChains(chains)
        .addFilterChains(FilterChain.newBuilder().setName("virtualInbound")
            .addFilters(tcpProxy(IstioNames.INBOUND_PASSTHROUGH, IstioNames.INBOUND_PASSTHROUGH)))
        .setTrafficDirection(TrafficDirection.INBOUND)
        .build();
  }
}
