package dev.sluice.testing;

import java.util.stream.Collectors;

/**
 * YAML pieces for {@code TestServers} configs: clusters to test backends and HCM listeners on port 0,
 * each indented as an item of {@code static_resources.clusters} or {@code static_resources.listeners}.
 */
public final class ProxyYaml {
  private ProxyYaml() {}

  /** A STATIC cluster with one endpoint on 127.0.0.1; {@code http2} makes it speak h2c upstream. */
  public static String cluster(String name, int port, boolean http2) {
    String s = "  - name: " + name + "\n"
        + "    type: STATIC\n"
        + "    connect_timeout: 1s\n"
        + "    load_assignment:\n"
        + "      cluster_name: " + name + "\n"
        + "      endpoints:\n"
        + "      - lb_endpoints:\n"
        + "        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + port + "}}}\n";
    if (http2) {
      s += "    typed_extension_protocol_options:\n"
          + "      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n"
          + "        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n"
          + "        explicit_http_config: {http2_protocol_options: {}}\n";
    }
    return s;
  }

  /**
   * A listener named {@code name} whose HCM has stat prefix {@code name}, the extra HCM fields
   * {@code hcmExtra} (block YAML without indentation, may be empty) and one route {@code prefix: /}
   * to {@code cluster} with the extra route-action fields {@code routeExtra} (flow style, may be empty).
   */
  public static String listener(String name, String hcmExtra, String cluster, String routeExtra) {
    String extra = hcmExtra.stripIndent().lines().filter(l -> !l.isBlank())
        .map(l -> "          " + l + "\n").collect(Collectors.joining());
    return "  - name: " + name + "\n"
        + "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}\n"
        + "    filter_chains:\n"
        + "    - filters:\n"
        + "      - name: envoy.filters.network.http_connection_manager\n"
        + "        typed_config:\n"
        + "          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
        + "          stat_prefix: " + name + "\n"
        + extra
        + "          route_config:\n"
        + "            name: local\n"
        + "            virtual_hosts:\n"
        + "            - name: all\n"
        + "              domains: [\"*\"]\n"
        + "              routes:\n"
        + "              - match: {prefix: /}\n"
        + "                route: {cluster: " + cluster + (routeExtra.isEmpty() ? "" : ", " + routeExtra) + "}\n"
        + "          http_filters:\n"
        + "          - name: envoy.filters.http.router\n"
        + "            typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}\n";
  }

  /** A listener routing every request to {@code cluster} through the router alone (stat prefix {@code name}). */
  public static String listener(String name, String cluster) {
    return listener(name, "", cluster, "");
  }

  public static String bootstrap(String clusters, String listeners) {
    return "static_resources:\n  clusters:\n" + clusters + "  listeners:\n" + listeners;
  }
}
