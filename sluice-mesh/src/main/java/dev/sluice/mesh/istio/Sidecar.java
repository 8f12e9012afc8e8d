package dev.sluice.mesh.istio;

import dev.sluice.mesh.model.MeshResource;
import java.util.List;
import java.util.Map;

/**
 * A parsed {@code Sidecar}: which proxies it applies to ({@code selector}; empty = the namespace's
 * default, or the mesh default in the root namespace), which services they see
 * ({@code egressHosts}, empty = all, as istiod's default scope) and what happens to traffic for
 * anything else ({@code registryOnly}: {@code outboundTrafficPolicy.mode: REGISTRY_ONLY}).
 */
public record Sidecar(MeshResource resource, Map<String, String> selector, List<EgressHost> egressHosts, boolean registryOnly) {
  /** Istio's root namespace: a selector-less Sidecar there is the default of every namespace without one. */
  public static final String ROOT_NAMESPACE = "istio-system";

  public Sidecar {
    selector = Map.copyOf(selector);
    egressHosts = List.copyOf(egressHosts);
  }

  /**
   * One {@code egress[].hosts} entry, {@code namespace/dnsName}: namespace {@code *} any,
   * {@code .} the proxy's own, {@code ~} none; dnsName {@code *}, {@code *.suffix} or a FQDN.
   */
  public record EgressHost(String namespace, String dnsName) {
    boolean matches(String serviceNamespace, String hostname, String proxyNamespace) {
      boolean ns = switch (namespace) {
        case "*" -> true;
        case "~" -> false;
        case "." -> serviceNamespace.equals(proxyNamespace);
        default -> serviceNamespace.equals(namespace);
      };
      if (!ns) {
        return false;
      }
      if (dnsName.equals("*")) {
        return true;
      }
      return dnsName.startsWith("*.") ? hostname.endsWith(dnsName.substring(1)) : hostname.equals(dnsName);
    }
  }

  /** Whether a proxy in {@code proxyNamespace} under this Sidecar sees the service {@code hostname} of {@code serviceNamespace}. */
  public boolean sees(String serviceNamespace, String hostname, String proxyNamespace) {
    return egressHosts.isEmpty() || egressHosts.stream().anyMatch(h -> h.matches(serviceNamespace, hostname, proxyNamespace));
  }

  /**
   * The Sidecar istiod applies to a workload: one in its namespace whose selector its labels
   * satisfy, else its namespace's selector-less one, else the root namespace's selector-less one
   * (the first in resource order at each step, as istiod keeps the oldest).
   */
  public static java.util.Optional<Sidecar> forWorkload(List<Sidecar> sidecars, String namespace, Map<String, String> labels) {
    return sidecars.stream()
        .filter(s -> s.resource.namespace().equals(namespace) && !s.selector.isEmpty()
            && labels.entrySet().containsAll(s.selector.entrySet()))
        .findFirst()
        .or(() -> sidecars.stream().filter(s -> s.resource.namespace().equals(namespace) && s.selector.isEmpty()).findFirst())
        .or(() -> sidecars.stream().filter(s -> s.resource.namespace().equals(ROOT_NAMESPACE) && s.selector.isEmpty()).findFirst());
  }
}
