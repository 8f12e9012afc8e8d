package dev.sluice.testing;

import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.HostStats;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * A host for tests: address, weight, metadata and cluster fixed when made (priority 0, default
 * locality, no hostname), health and degradation set by the test. Tests extend it with their own
 * factories.
 */
public class SimpleHost implements Host {
  private final InetSocketAddress address;
  private final int weight;
  private final Metadata metadata;
  private final @Nullable ClusterInfo cluster;
  private final HostStats stats = new HostStats();
  public volatile boolean healthy = true;
  public volatile boolean degraded;

  /** {@code cluster} null: {@link #cluster()} is not supported (balancer tests have none). */
  public SimpleHost(InetSocketAddress address, int weight, Metadata metadata, @Nullable ClusterInfo cluster) {
    this.address = address;
    this.weight = weight;
    this.metadata = metadata;
    this.cluster = cluster;
  }

  @Override
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public String addressString() {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  @Override
  public String hostname() {
    return "";
  }

  @Override
  public int weight() {
    return weight;
  }

  @Override
  public int priority() {
    return 0;
  }

  @Override
  public Locality locality() {
    return Locality.getDefaultInstance();
  }

  @Override
  public Metadata metadata() {
    return metadata;
  }

  @Override
  public boolean healthy() {
    return healthy;
  }

  @Override
  public boolean degraded() {
    return degraded;
  }

  @Override
  public ClusterInfo cluster() {
    if (cluster == null) {
      throw new UnsupportedOperationException();
    }
    return cluster;
  }

  @Override
  public HostStats stats() {
    return stats;
  }

  @Override
  public String toString() {
    return addressString();
  }
}
