package dev.sluice.mesh.model;

/**
 * A connected proxy, from its xDS node id as istiod reads it:
 * {@code sidecar~10.0.0.5~productpage-v1.default~default.svc.cluster.local} or {@code router~...}
 * for a gateway. {@code mode} says how the workload's traffic reaches the proxy.
 */
public record ProxyNode(String type, String ip, String podName, String namespace, String domain, Mode mode) {

  public enum Mode {
    /** iptables interception in a network namespace: virtualOutbound 15001 / virtualInbound 15006. */
    TRANSPARENT,
    /** No interception: the app calls its sidecar's loopback ports; the sidecar listens on the workload address. */
    EXPLICIT
  }

  public boolean isGateway() {
    return "router".equals(type);
  }

  /** Parses a node id ({@code type~ip~pod.namespace~domain}); throws IllegalArgumentException naming what is wrong. */
  public static ProxyNode parse(String nodeId, Mode mode) {
    String[] parts = nodeId.split("~", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("node id '" + nodeId + "' is not type~ip~pod.namespace~domain");
    }
    if (!parts[0].equals("sidecar") && !parts[0].equals("router")) {
      throw new IllegalArgumentException("node id '" + nodeId + "': type must be sidecar or router, not '" + parts[0] + "'");
    }
    int dot = parts[2].lastIndexOf('.');
    if (dot <= 0 || dot == parts[2].length() - 1) {
      throw new IllegalArgumentException("node id '" + nodeId + "': third part must be pod.namespace");
    }
    return new ProxyNode(parts[0], parts[1], parts[2].substring(0, dot), parts[2].substring(dot + 1), parts[3], mode);
  }

  public String id() {
    return type + "~" + ip + "~" + podName + "." + namespace + "~" + domain;
  }
}
