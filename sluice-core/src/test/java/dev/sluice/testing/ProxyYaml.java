package dev.sluice.testing;

import java.util.stream.Collectors;

/**
 * YAML pieces for {@code TestServers} configs: clusters to test backends and HCM listeners on port 0
 * (one route to a cluster, or the caller's routes and filters),
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
    return hcmListener(name, name, (hcmExtra.isBlank() ? "" : hcmExtra.stripIndent().stripTrailing() + "\n")
        + "route_config:\n"
        + "  name: local\n"
        + "  virtual_hosts:\n"
        + "  - name: all\n"
        + "    domains: [\"*\"]\n"
        + "    routes:\n"
        + "    - match: {prefix: /}\n"
        + "      route: {cluster: " + cluster + (routeExtra.isEmpty() ? "" : ", " + routeExtra) + "}\n"
        + ROUTER_ONLY);
  }

  /** {@code http_filters} of the router alone, block YAML without indentation, to end an HCM's fields. */
  public static final String ROUTER_ONLY = """
      http_filters:
      - name: envoy.filters.http.router
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
      """;

  /**
   * A listener named {@code name} on 127.0.0.1:0 whose one filter is an HCM with stat prefix
   * {@code statPrefix} and the fields {@code hcmFields} (block YAML without indentation:
   * route_config, http_filters and any other).
   */
  public static String hcmListener(String name, String statPrefix, String hcmFields) {
    String fields = hcmFields.stripIndent().lines().filter(l -> !l.isBlank())
        .map(l -> "          " + l + "\n").collect(Collectors.joining());
    return "  - name: " + name + "\n"
        + "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}\n"
        + "    filter_chains:\n"
        + "    - filters:\n"
        + "      - name: envoy.filters.network.http_connection_manager\n"
        + "        typed_config:\n"
        + "          \"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
        + "          stat_prefix: " + statPrefix + "\n"
        + fields;
  }

  /** A listener routing every request to {@code cluster} through the router alone (stat prefix {@code name}). */
  public static String listener(String name, String cluster) {
    return listener(name, "", cluster, "");
  }

  public static String bootstrap(String clusters, String listeners) {
    return "static_resources:\n  clusters:\n" + clusters + "  listeners:\n" + listeners;
  }
}
