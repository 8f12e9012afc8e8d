package dev.sluice.mesh.istio;

import dev.sluice.mesh.model.ValidationMessage;
import java.util.List;
import java.util.Optional;

/** The typed Istio resources of one state, with what parsing found wrong in them. */
public record IstioConfig(
    List<VirtualService> virtualServices,
    List<DestinationRule> destinationRules,
    List<Gateway> gateways,
    List<Sidecar> sidecars,
    List<ValidationMessage> messages) {
  public static final String DOMAIN = "svc.cluster.local";

  public IstioConfig {
    virtualServices = List.copyOf(virtualServices);
    destinationRules = List.copyOf(destinationRules);
    gateways = List.copyOf(gateways);
    sidecars = List.copyOf(sidecars);
    messages = List.copyOf(messages);
  }

  /**
   * Istio's short-name resolution: a host without a dot is a service in the resource's namespace
   * ({@code reviews} in {@code default} is {@code reviews.default.svc.cluster.local}); a host with
   * a dot, or a wildcard, is taken as written.
   */
  public static String resolveHost(String host, String namespace) {
    if (host.equals("*") || host.contains(".")) {
      return host;
    }
    return host + "." + namespace + "." + DOMAIN;
  }

  /** The DestinationRule for a FQDN (the first in resource order, as Istio keeps the oldest). */
  public Optional<DestinationRule> destinationRule(String fqdn) {
    return destinationRules.stream()
        .filter(dr -> resolveHost(dr.host(), dr.resource().namespace()).equals(fqdn))
        .findFirst();
  }

  /** A gateway by the name a VirtualService in {@code namespace} gives it ({@code name} or {@code ns/name}). */
  public Optional<Gateway> gateway(String ref, String namespace) {
    String qualified = ref.contains("/") ? ref : namespace + "/" + ref;
    return gateways.stream().filter(g -> g.qualifiedName().equals(qualified)).findFirst();
  }
}
