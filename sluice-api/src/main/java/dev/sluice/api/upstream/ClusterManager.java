package dev.sluice.api.upstream;

import java.util.Collection;
import org.jspecify.annotations.Nullable;

/**
 * All clusters of the server. Reads are one volatile read of an immutable snapshot, so workers may
 * call {@link #get} per request; writes happen on the control thread only.
 */
public interface ClusterManager {
  /** The active cluster of that name, or null (the router answers 503 with flag NC). */
  @Nullable Cluster get(String name);

  Collection<Cluster> clusters();

  /** Listeners are told about changes on the control thread, after the new snapshot is published. */
  void addListener(ClusterUpdateListener listener);

  /** Observer of membership and cluster changes (connection pools drain removed hosts). */
  interface ClusterUpdateListener {
    default void onClusterAddOrUpdate(Cluster cluster) {}

    default void onClusterRemoval(String name) {}

    default void onHostsRemoved(Cluster cluster, Collection<Host> removed) {}
  }
}
