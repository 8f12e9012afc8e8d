package dev.sluice.api.upstream;

import java.util.List;

/** A cluster as the data path sees it: its static info, its hosts and a load balancer per worker. */
public interface Cluster {
  ClusterInfo info();

  /**
   * The load balancer of worker {@code workerIndex} (0 .. concurrency-1). Each worker thread uses
   * only its own; the instance follows membership changes by itself (a volatile read per pick).
   */
  LoadBalancer loadBalancer(int workerIndex);

  /** The current hosts, by priority (index = priority), as an immutable snapshot. */
  List<List<Host>> hostsByPriority();

  /** True while the cluster waits for its first membership (EDS, DNS): Envoy's warming. */
  boolean warming();
}
