package dev.sluice.mesh.istio;

import dev.sluice.mesh.istio.VirtualService.Destination;
import dev.sluice.mesh.istio.VirtualService.HttpRoute;
import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ValidationMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The cross-reference checks {@code istioctl analyze} makes, on parsed config and the registry:
 * a destination host no service has (IST0101), a subset no DestinationRule defines, a port the
 * service does not have or a missing port on a multi-port service, a gateway that does not exist,
 * two selector-less Sidecars in one namespace.
 * Shape errors come from {@link IstioParser}; this adds the ones that need the whole state.
 */
public final class IstioValidator {
  private IstioValidator() {}

  public static List<ValidationMessage> validate(IstioConfig config, ServiceRegistry registry) {
    List<ValidationMessage> out = new ArrayList<>(config.messages());
    for (VirtualService vs : config.virtualServices()) {
      MeshResource r = vs.resource();
      for (int g = 0; g < vs.gateways().size(); g++) {
        checkGateway(config, r, vs.gateways().get(g), "spec.gateways[" + g + "]", out);
      }
      for (int i = 0; i < vs.http().size(); i++) {
        HttpRoute route = vs.http().get(i);
        String path = "spec.http[" + i + "]";
        for (int j = 0; j < route.route().size(); j++) {
          checkDestination(config, registry, r, route.route().get(j).destination(), path + ".route[" + j + "].destination", out);
        }
        if (route.mirror() != null) {
          checkDestination(config, registry, r, route.mirror(), path + ".mirror", out);
        }
        for (int m = 0; m < route.match().size(); m++) {
          List<String> gws = route.match().get(m).gateways();
          for (int g = 0; g < gws.size(); g++) {
            checkGateway(config, r, gws.get(g), path + ".match[" + m + "].gateways[" + g + "]", out);
          }
        }
      }
    }
    for (DestinationRule dr : config.destinationRules()) {
      String fqdn = IstioConfig.resolveHost(dr.host(), dr.resource().namespace());
      if (!dr.host().isEmpty() && !fqdn.startsWith("*") && service(registry, fqdn).isEmpty()) {
        out.add(warning(dr.resource(), "spec.host", "Referenced host not found: \"" + dr.host() + "\""));
      }
    }
    checkSidecarDefaults(config, out);
    return List.copyOf(out);
  }

  /** IST0109: two selector-less Sidecars in one namespace leave which is the default undefined. */
  private static void checkSidecarDefaults(IstioConfig config, List<ValidationMessage> out) {
    java.util.Map<String, Sidecar> defaults = new java.util.HashMap<>();
    for (Sidecar s : config.sidecars()) {
      if (!s.selector().isEmpty()) {
        continue;
      }
      Sidecar first = defaults.putIfAbsent(s.resource().namespace(), s);
      if (first != null) {
        out.add(error(s.resource(), "spec.workloadSelector", "namespace " + s.resource().namespace()
            + " already has a Sidecar without workloadSelector (" + first.resource().key() + " in " + first.resource().source()
            + "): only one may be the namespace default"));
      }
    }
  }

  private static void checkGateway(IstioConfig config, MeshResource r, String ref, String field, List<ValidationMessage> out) {
    if (!ref.equals("mesh") && config.gateway(ref, r.namespace()).isEmpty()) {
      out.add(error(r, field, "Referenced gateway not found: \"" + ref + "\""));
    }
  }

  private static void checkDestination(IstioConfig config, ServiceRegistry registry, MeshResource r, Destination d, String field,
      List<ValidationMessage> out) {
    String fqdn = IstioConfig.resolveHost(d.host(), r.namespace());
    Optional<MeshService> service = service(registry, fqdn);
    if (service.isEmpty()) {
      out.add(error(r, field + ".host", "Referenced host not found: \"" + d.host() + "\""));
      return;
    }
    List<ServicePort> ports = service.get().ports();
    if (d.port() != null && ports.stream().noneMatch(p -> p.port() == d.port())) {
      out.add(error(r, field + ".port.number", "service " + fqdn + " has no port " + d.port()));
    } else if (d.port() == null && ports.size() > 1) {
      out.add(error(r, field + ".port", "service " + fqdn + " has " + ports.size() + " ports: the destination must name one"));
    }
    if (d.subset() != null) {
      boolean defined = config.destinationRule(fqdn)
          .map(dr -> dr.subsets().stream().anyMatch(s -> s.name().equals(d.subset())))
          .orElse(false);
      if (!defined) {
        out.add(error(r, field + ".subset", "Referenced host+subset in destinationrule not found: \"" + d.host() + "+" + d.subset() + "\""));
      }
    }
  }

  public static Optional<MeshService> service(ServiceRegistry registry, String fqdn) {
    return registry.services().stream().filter(s -> s.hostname().equals(fqdn)).findFirst();
  }

  private static ValidationMessage error(MeshResource r, String field, String message) {
    return new ValidationMessage(ValidationMessage.Level.ERROR, r.source(), r.key(), field, message);
  }

  private static ValidationMessage warning(MeshResource r, String field, String message) {
    return new ValidationMessage(ValidationMessage.Level.WARNING, r.source(), r.key(), field, message);
  }
}
