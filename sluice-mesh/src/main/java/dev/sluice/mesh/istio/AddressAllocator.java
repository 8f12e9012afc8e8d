package dev.sluice.mesh.istio;

import java.util.HashMap;
import java.util.Map;

/**
 * Hands out the local addresses of the mesh: per workload a sidecar address {@code 127.0.N.M} and
 * an application address {@code 127.1.N.M} (explicit mode, docs/mesh.md), per service a VIP
 * {@code 10.96.N.M} (transparent mode). Addresses go in order of first request starting at
 * {@code .1.1}, and a name keeps its address for the allocator's life, so re-reading the same
 * files (or adding workloads) never moves a workload that already has one. 127.0.0.x stays free
 * for the control plane and the ingress gateway.
 */
public final class AddressAllocator {
  private static final int PER_BLOCK = 254;
  private final Map<String, Integer> workloads = new HashMap<>();
  private final Map<String, Integer> services = new HashMap<>();

  /** {@code 127.0.N.M} for the workload {@code namespace/name}. */
  public synchronized String sidecarAddress(String namespace, String name) {
    return address("127.0.", index(workloads, namespace + "/" + name));
  }

  /** {@code 127.1.N.M}: the same N.M as the workload's sidecar address. */
  public synchronized String appAddress(String namespace, String name) {
    return address("127.1.", index(workloads, namespace + "/" + name));
  }

  /** {@code 10.96.N.M} for the service hostname. */
  public synchronized String serviceVip(String hostname) {
    return address("10.96.", index(services, hostname));
  }

  private static int index(Map<String, Integer> byName, String key) {
    return byName.computeIfAbsent(key, k -> byName.size());
  }

  private static String address(String prefix, int index) {
    int block = 1 + index / PER_BLOCK;
    if (block > 255) {
      throw new IllegalStateException("address space exhausted after " + index + " names");
    }
    return prefix + block + "." + (1 + index % PER_BLOCK);
  }
}
