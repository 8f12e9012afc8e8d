package dev.sluice.it.routing;

import dev.sluice.testing.TestBackend;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** Bootstrap YAML for these tests: admin on port 0, the given clusters and HTTP listeners. */
final class ProxyConfig {
  static final String ROUTER = """
      - name: envoy.filters.http.router
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
      """;

  private ProxyConfig() {}

  static String bootstrap(List<String> clusters, List<String> listeners) {
    return "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
        + "static_resources:\n"
        + "  clusters:\n" + indent(String.join("", clusters), 2)
        + "  listeners:\n" + indent(String.join("", listeners), 2);
  }

  /**
   * An HTTP listener on 127.0.0.1:0 with a connection manager whose other fields are
   * {@code hcmFields} (YAML at column 0; the router filter alone unless it sets http_filters).
   */
  static String httpListener(String name, String statPrefix, String hcmFields) {
    String fields = hcmFields.contains("http_filters:") ? hcmFields : hcmFields + "http_filters:\n" + ROUTER;
    return """
        - name: %s
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
          filter_chains:
          - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: %s
        """.formatted(name, statPrefix) + indent(fields, 8);
  }

  /** A STATIC cluster with one locality of the backends, equal weights. */
  static String staticCluster(String name, String lbPolicy, TestBackend... backends) {
    return staticCluster(name, lbPolicy, "", Arrays.stream(backends).mapToInt(TestBackend::port).toArray());
  }

  /** A STATIC cluster on 127.0.0.1 ports; {@code extra} is more cluster fields (column 0). */
  static String staticCluster(String name, String lbPolicy, String extra, int... ports) {
    String endpoints = Arrays.stream(ports)
        .mapToObj(p -> "  - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " + p + "}}}\n")
        .collect(Collectors.joining());
    return """
        - name: "%s"
          type: STATIC
          connect_timeout: 1s
          lb_policy: %s
        %s  load_assignment:
            cluster_name: "%s"
            endpoints:
            - lb_endpoints:
        """.formatted(name, lbPolicy, indent(extra, 2), name) + indent(endpoints, 4);
  }

  static String indent(String text, int n) {
    String pad = " ".repeat(n);
    return text.lines().map(l -> l.isEmpty() ? l : pad + l).collect(Collectors.joining("\n", "", "\n"))
        .replaceFirst("^\n$", "");
  }
}
