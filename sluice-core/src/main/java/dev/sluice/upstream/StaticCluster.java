package dev.sluice.upstream;

import dev.sluice.lb.LbConfig;
import java.net.SocketAddress;
import java.util.List;

/** STATIC: the hosts of {@code load_assignment}, IP addresses or pipes; warm at once. */
final class StaticCluster extends ClusterImpl {
  StaticCluster(ClusterInfoImpl info, LbConfig lbConfig, ClusterContext ctx) {
    super(info, lbConfig, ctx.concurrency(), ctx.seed(), false, ctx.events());
    LoadAssignment assignment = LoadAssignment.parse(info.config().getLoadAssignment(), "load_assignment", true);
    List<SocketAddress> addresses = assignment.endpoints().stream().map(EndpointSpec::socketAddress).toList();
    List<HostImpl> hosts = reuseOrCreate(assignment.endpoints(), addresses, List.of());
    publish(group(assignment.endpoints(), hosts), assignment.overprovisioningFactor());
  }
}
