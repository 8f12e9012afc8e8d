package dev.sluice.upstream;

import dev.sluice.lb.LbConfig;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * STRICT_DNS: every address each name resolves to is a host (with the endpoint's port, weight,
 * locality and priority); an empty answer empties that name's hosts, a failed one keeps them.
 */
final class StrictDnsCluster extends DnsCluster {
  StrictDnsCluster(ClusterInfoImpl info, LbConfig lbConfig, ClusterContext ctx) {
    super(info, lbConfig, ctx);
  }

  @Override
  void apply(Target target, List<InetSocketAddress> addresses) {
    target.hosts = reuseOrCreate(Collections.nCopies(addresses.size(), target.spec), addresses, target.hosts);
    List<EndpointSpec> specs = new ArrayList<>();
    List<HostImpl> hosts = new ArrayList<>();
    for (Target t : targets) {
      specs.addAll(Collections.nCopies(t.hosts.size(), t.spec));
      hosts.addAll(t.hosts);
    }
    publish(group(specs, hosts), overprovisioningFactor);
  }
}
