package dev.sluice.upstream;

import dev.sluice.lb.LbConfig;
import java.net.InetSocketAddress;
import java.util.List;

/** STATIC: the hosts of {@code load_assignment}, IP addresses only; warm at once. */
final class StaticCluster extends ClusterImpl {
  StaticCluster(ClusterInfoImpl info, LbConfig lbConfig, ClusterContext ctx) {
    super(info, lbConfig, ctx.concurrency(), ctx.seed(), false, ctx.events());
    LoadAssignment assignment = LoadAssignment.parse(info.config().getLoadAssignment(), "load_assignment", true);
    List<InetSocketAddress> addresses = assignment.endpoints().stream()
        .map(s -> new InetSocketAddress(Addresses.ip(s.address(), ""), s.port())).toList();
    List<HostImpl> hosts = reuseOrCreate(assignment.endpoints(), addresses, List.of());
    publish(group(assignment.endpoints(), hosts), assignment.overprovisioningFactor());
  }
}
