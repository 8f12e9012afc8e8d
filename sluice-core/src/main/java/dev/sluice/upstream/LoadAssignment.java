package dev.sluice.upstream;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.List;

/**
 * A validated {@code ClusterLoadAssignment}: its endpoints in order and the overprovisioning
 * factor ({@code policy.overprovisioning_factor}, 140 unless set).
 */
record LoadAssignment(List<EndpointSpec> endpoints, int overprovisioningFactor) {
  private static final int MAX_PRIORITY = 127;

  LoadAssignment {
    endpoints = List.copyOf(endpoints);
  }

  /**
   * @param path the assignment's field path ({@code load_assignment}, or empty for an EDS resource)
   * @param ipOnly true when addresses must be IP literals or pipes (STATIC, EDS); false for DNS
   *     clusters, whose addresses are socket addresses with a DNS name or an IP
   */
  static LoadAssignment parse(ClusterLoadAssignment cla, String path, boolean ipOnly) {
    String prefix = path.isEmpty() ? "" : path + ".";
    int factor = 140;
    if (cla.getPolicy().hasOverprovisioningFactor()) {
      factor = cla.getPolicy().getOverprovisioningFactor().getValue();
      if (factor <= 0) {
        throw new ConfigException(prefix + "policy.overprovisioning_factor", "must be greater than 0");
      }
    }
    List<EndpointSpec> specs = new ArrayList<>();
    for (int l = 0; l < cla.getEndpointsCount(); l++) {
      LocalityLbEndpoints group = cla.getEndpoints(l);
      String groupPath = prefix + "endpoints[" + l + "]";
      if (group.getPriority() > MAX_PRIORITY) {
        throw new ConfigException(groupPath + ".priority", "must be at most " + MAX_PRIORITY);
      }
      if (group.hasLedsClusterLocalityConfig()) {
        throw new ConfigException(groupPath + ".leds_cluster_locality_config", "LEDS is not supported");
      }
      int localityWeight = group.hasLoadBalancingWeight() ? group.getLoadBalancingWeight().getValue() : 0;
      for (int e = 0; e < group.getLbEndpointsCount(); e++) {
        LbEndpoint lb = group.getLbEndpoints(e);
        String at = groupPath + ".lb_endpoints[" + e + "]";
        if (!lb.hasEndpoint()) {
          throw new ConfigException(at + ".endpoint", "an endpoint is required (endpoint_name is not supported)");
        }
        var address = lb.getEndpoint().getAddress();
        if (ipOnly && address.hasPipe()) {
          specs.add(new EndpointSpec(group.getPriority(), group.getLocality(), localityWeight,
              address.getPipe().getPath(), 0, lb.getEndpoint().getHostname(), weight(lb, at),
              lb.getMetadata(), lb.getHealthStatus(), Addresses.pipe(address.getPipe(), at + ".endpoint.address.pipe"),
              lb.getEndpoint().getHealthCheckConfig()));
          continue;
        }
        if (ipOnly && address.hasEnvoyInternalAddress()) {
          var internal = dev.sluice.listener.InternalAddress.of(address.getEnvoyInternalAddress(), at + ".endpoint.address.envoy_internal_address");
          specs.add(new EndpointSpec(group.getPriority(), group.getLocality(), localityWeight,
              internal.toString(), 0, lb.getEndpoint().getHostname(), weight(lb, at),
              lb.getMetadata(), lb.getHealthStatus(), internal, lb.getEndpoint().getHealthCheckConfig()));
          continue;
        }
        var socket = Addresses.socket(address, at + ".endpoint.address");
        int port = Addresses.port(socket, at + ".endpoint.address.socket_address.port_value", false);
        if (ipOnly) {
          Addresses.ip(socket.getAddress(), at + ".endpoint.address.socket_address.address");
        }
        specs.add(new EndpointSpec(group.getPriority(), group.getLocality(), localityWeight,
            socket.getAddress(), port, lb.getEndpoint().getHostname(), weight(lb, at), lb.getMetadata(),
            lb.getHealthStatus(), null, lb.getEndpoint().getHealthCheckConfig()));
      }
    }
    return new LoadAssignment(specs, factor);
  }

  private static int weight(LbEndpoint lb, String at) {
    if (!lb.hasLoadBalancingWeight()) {
      return 1;
    }
    int weight = lb.getLoadBalancingWeight().getValue();
    if (weight < 1) {
      throw new ConfigException(at + ".load_balancing_weight", "must be at least 1");
    }
    return weight;
  }
}
