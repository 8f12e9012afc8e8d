package dev.sluice.upstream;

import dev.sluice.api.config.ConfigException;
import dev.sluice.lb.LbConfig;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * LOGICAL_DNS: one host whose address is the first address of the latest answer. The host keeps
 * its identity when the address changes, so existing connections stay and new ones use the new
 * address, as Envoy's logical host.
 */
final class LogicalDnsCluster extends DnsCluster {
  LogicalDnsCluster(ClusterInfoImpl info, LbConfig lbConfig, ClusterContext ctx) {
    super(info, lbConfig, ctx);
    var la = info.config().getLoadAssignment();
    if (la.getEndpointsCount() != 1 || la.getEndpoints(0).getLbEndpointsCount() != 1) {
      throw new ConfigException("load_assignment", "LOGICAL_DNS clusters must have a single"
          + " locality_lb_endpoint and a single lb_endpoint");
    }
  }

  @Override
  void apply(Target target, List<InetSocketAddress> addresses) {
    if (addresses.isEmpty()) {
      return; // keep the last good address
    }
    InetSocketAddress first = addresses.get(0);
    if (target.hosts.isEmpty()) {
      target.hosts = reuseOrCreate(List.of(target.spec), List.of(first), List.of());
      publish(group(List.of(target.spec), target.hosts), overprovisioningFactor);
    } else if (!target.hosts.get(0).address().equals(first)) {
      target.hosts.get(0).setAddress(first);
    }
  }
}
