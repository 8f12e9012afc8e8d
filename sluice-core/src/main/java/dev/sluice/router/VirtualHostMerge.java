package dev.sluice.router;

import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A route configuration with VHDS: the virtual hosts RDS sent, then those VHDS delivered, a VHDS
 * virtual host taking the place of an RDS one of the same name (Envoy rebuilds the route
 * configuration from both sets on every RDS or VHDS update, keeping the VHDS ones across RDS
 * updates). The result is compiled into a new immutable {@link RouteTable}.
 */
public final class VirtualHostMerge {
  private VirtualHostMerge() {}

  /** {@code rds} with its virtual hosts merged with {@code vhds} (in order; the last of a name wins). */
  public static RouteConfiguration merge(RouteConfiguration rds, Collection<VirtualHost> vhds) {
    if (vhds.isEmpty()) {
      return rds;
    }
    Map<String, VirtualHost> added = new LinkedHashMap<>();
    for (VirtualHost vh : vhds) {
      added.put(vh.getName(), vh);
    }
    RouteConfiguration.Builder merged = rds.toBuilder().clearVirtualHosts();
    for (VirtualHost vh : rds.getVirtualHostsList()) {
      VirtualHost replacement = added.remove(vh.getName());
      merged.addVirtualHosts(replacement == null ? vh : replacement);
    }
    return merged.addAllVirtualHosts(added.values()).build();
  }
}
