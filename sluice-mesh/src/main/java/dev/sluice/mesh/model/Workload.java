package dev.sluice.mesh.model;

import java.util.Map;

/**
 * One workload instance (a pod of a Deployment, or a WorkloadEntry) with its own address.
 *
 * <p>Addresses: in transparent mode {@code address} is the pod IP inside its network namespace;
 * in explicit mode every workload gets its own loopback address (127.0.N.M), so all can use the
 * service's real ports. {@code appAddress} is where the application itself listens: the same as
 * {@code address} in transparent mode (iptables sends inbound traffic to the sidecar); in
 * explicit mode a second loopback address (127.1.N.M), because the sidecar owns
 * {@code address:targetPort} there.
 */
public record Workload(
    String name,
    String namespace,
    Map<String, String> labels,
    String serviceAccount,
    String address,
    String appAddress) {

  /** Istio's pod naming for proxy node ids: the workload name is the pod name. */
  public String podName() {
    return name;
  }
}
