package dev.sluice.upstream;

import dev.sluice.lb.LbConfig;
import java.net.SocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * EDS: membership from {@code ClusterLoadAssignment}s pushed by xDS for
 * {@code eds_cluster_config.service_name} (the cluster name when empty); warming until the first.
 */
final class EdsCluster extends ClusterImpl {
  private final String serviceName;
  private List<HostImpl> hosts = List.of();
  private @Nullable LoadAssignment current;

  EdsCluster(ClusterInfoImpl info, LbConfig lbConfig, ClusterContext ctx) {
    super(info, lbConfig, ctx.concurrency(), ctx.seed(), true, ctx.events());
    String service = info.config().getEdsClusterConfig().getServiceName();
    this.serviceName = service.isEmpty() ? info.name() : service;
    // The EDS subscription's own stats, shown from the start as Envoy's (the xDS client counts them).
    info.statsScope().counter("update_rejected");
    info.statsScope().counter("init_fetch_timeout");
  }

  String serviceName() {
    return serviceName;
  }

  /** No assignment within the initial fetch timeout: the cluster serves (no hosts) until one comes. */
  void initialFetchTimedOut() {
    markWarm();
  }

  /** Applies a validated assignment; control thread. */
  void apply(LoadAssignment assignment) {
    var stats = info().stats();
    stats.updateAttempt.inc();
    if (assignment.equals(current) && !warming()) {
      // As Envoy: the same hosts again change nothing; the load balancers are not rebuilt.
      stats.updateSuccess.inc();
      stats.updateNoRebuild.inc();
      return;
    }
    current = assignment;
    List<SocketAddress> addresses = assignment.endpoints().stream().map(EndpointSpec::socketAddress).toList();
    hosts = reuseOrCreate(assignment.endpoints(), addresses, hosts);
    publish(group(assignment.endpoints(), hosts), assignment.overprovisioningFactor());
    stats.updateSuccess.inc();
    if (assignment.endpoints().isEmpty()) {
      stats.updateEmpty.inc();
    }
    markWarm();
  }
}
