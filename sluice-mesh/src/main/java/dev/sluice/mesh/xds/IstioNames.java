package dev.sluice.mesh.xds;

/** The resource names istiod gives (pilot/pkg/model and networking/core). */
final class IstioNames {
  static final String BLACK_HOLE = "BlackHoleCluster";
  static final String PASSTHROUGH = "PassthroughCluster";
  static final String INBOUND_PASSTHROUGH = "InboundPassthroughClusterIpv4";
  static final String HCM = "envoy.filters.network.http_connection_manager";
  static final String FAULT = "envoy.filters.http.fault";
  static final String CORS = "envoy.filters.http.cors";
  static final String ROUTER = "envoy.filters.http.router";
  /** The route configuration of istiod's HTTP proxy listener ({@code meshConfig.proxyHttpPort}): every outbound service, domains with ports. */
  static final String HTTP_PROXY_ROUTE = "http_proxy";
  /** Explicit mode's outbound HTTP proxy port (Istio's virtualOutbound port; nothing intercepts it here). */
  static final int EXPLICIT_OUTBOUND_PORT = 15001;
  static final int VIRTUAL_INBOUND_PORT = 15006;

  private IstioNames() {}

  /** {@code outbound|9080|v1|reviews.default.svc.cluster.local}; the subset is empty for the whole service. */
  static String outboundCluster(int port, String subset, String hostname) {
    return "outbound|" + port + "|" + subset + "|" + hostname;
  }

  /** {@code inbound|9080||}: the workload's own port (the service's target port). */
  static String inboundCluster(int targetPort) {
    return "inbound|" + targetPort + "||";
  }

  /** {@code 0.0.0.0_9080}, {@code 127.0.1.3_15001}. */
  static String listener(String address, int port) {
    return address + "_" + port;
  }

  /** The config path istiod records in route and cluster metadata. */
  static String configPath(String kindPath, String namespace, String name) {
    return "/apis/networking.istio.io/v1alpha3/namespaces/" + namespace + "/" + kindPath + "/" + name;
  }
}
