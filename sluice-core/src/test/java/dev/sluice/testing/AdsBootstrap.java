package dev.sluice.testing;

/**
 * Bootstrap YAML of a proxy that takes its clusters and listeners over ADS, as Istio's: an admin
 * port 0, the STATIC {@code xds-grpc} cluster to the control plane, and {@code ads_config} through
 * it with {@code cds_config} and {@code lds_config} over ADS. The setters change one part each;
 * {@link #yaml()} writes the text for {@code TestServers}.
 */
public final class AdsBootstrap {
  private final String xdsAddress;
  private String nodeId = "sidecar~127.0.0.1~test~default";
  private String nodeCluster = "test";
  private String apiType = "GRPC";
  private boolean nodeOnFirstMessageOnly;
  private boolean http2;
  private String moreClusters = "";
  private String staticListeners = "";
  private String initialFetchTimeout = "";
  private boolean cds = true;

  private AdsBootstrap(String xdsAddress) {
    this.xdsAddress = xdsAddress;
  }

  /** ADS from a control plane on 127.0.0.1:{@code port}. */
  public static AdsBootstrap toPort(int port) {
    return toAddress(loopback(port));
  }

  private static String loopback(int port) {
    return "{socket_address: {address: 127.0.0.1, port_value: " + port + "}}";
  }

  /** ADS from a control plane at {@code address}, an Envoy address in flow YAML (a socket address or a pipe). */
  public static AdsBootstrap toAddress(String address) {
    return new AdsBootstrap(address);
  }

  /** The node (default {@code sidecar~127.0.0.1~test~default}, cluster {@code test}). */
  public AdsBootstrap node(String id, String cluster) {
    this.nodeId = id;
    this.nodeCluster = cluster;
    return this;
  }

  /** The node {@code sidecar~127.0.0.1~<cluster>~default} of {@code cluster}. */
  public AdsBootstrap node(String cluster) {
    return node("sidecar~127.0.0.1~" + cluster + "~default", cluster);
  }

  /** {@code ads_config.api_type}: GRPC (the default) or DELTA_GRPC. */
  public AdsBootstrap apiType(String apiType) {
    this.apiType = apiType;
    return this;
  }

  /** {@code ads_config.set_node_on_first_message_only: true}. */
  public AdsBootstrap nodeOnFirstMessageOnly() {
    this.nodeOnFirstMessageOnly = true;
    return this;
  }

  /** The {@code xds-grpc} cluster's upstream protocol set to HTTP/2 explicitly, as Istio's bootstrap does. */
  public AdsBootstrap http2() {
    this.http2 = true;
    return this;
  }

  /** One more STATIC cluster {@code name} (connect timeout 1 s) of one endpoint at {@code address} (flow YAML). */
  public AdsBootstrap staticCluster(String name, String address) {
    this.moreClusters += cluster(name, address, false);
    return this;
  }

  /** One more STATIC cluster {@code name} of one endpoint at 127.0.0.1:{@code port}. */
  public AdsBootstrap staticCluster(String name, int port) {
    return staticCluster(name, loopback(port));
  }

  /** {@code static_resources.listeners}: the given listeners, each a flow-YAML (or JSON) object. */
  public AdsBootstrap staticListeners(String commaSeparated) {
    this.staticListeners = commaSeparated;
    return this;
  }

  /** {@code initial_fetch_timeout} of {@code cds_config} and {@code lds_config} (e.g. {@code 1s}). */
  public AdsBootstrap initialFetchTimeout(String duration) {
    this.initialFetchTimeout = ", initial_fetch_timeout: " + duration;
    return this;
  }

  /** No {@code cds_config}: listeners only over ADS (for control planes that serve no clusters). */
  public AdsBootstrap withoutCds() {
    this.cds = false;
    return this;
  }

  public String yaml() {
    return "node: {id: '" + nodeId + "', cluster: '" + nodeCluster + "'}\n"
        + "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
        + "static_resources:\n"
        + (staticListeners.isEmpty() ? "" : "  listeners: [" + staticListeners + "]\n")
        + "  clusters:\n"
        + cluster("xds-grpc", xdsAddress, http2)
        + moreClusters
        + "dynamic_resources:\n"
        + "  ads_config:\n"
        + "    api_type: " + apiType + "\n"
        + "    transport_api_version: V3\n"
        + (nodeOnFirstMessageOnly ? "    set_node_on_first_message_only: true\n" : "")
        + "    grpc_services: [{envoy_grpc: {cluster_name: xds-grpc}}]\n"
        + (cds ? "  cds_config: {ads: {}, resource_api_version: V3" + initialFetchTimeout + "}\n" : "")
        + "  lds_config: {ads: {}, resource_api_version: V3" + initialFetchTimeout + "}\n";
  }

  private static String cluster(String name, String address, boolean http2) {
    return "  - name: " + name + "\n"
        + "    type: STATIC\n"
        + "    connect_timeout: 1s\n"
        + (http2 ? "    typed_extension_protocol_options:\n"
            + "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
            + "        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n"
            + "        explicit_http_config: {http2_protocol_options: {}}\n" : "")
        + "    load_assignment:\n"
        + "      cluster_name: " + name + "\n"
        + "      endpoints: [{lb_endpoints: [{endpoint: {address: " + address + "}}]}]\n";
  }
}
