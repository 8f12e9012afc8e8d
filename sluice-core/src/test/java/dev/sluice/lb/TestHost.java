package dev.sluice.lb;

import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.HostStats;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.net.InetSocketAddress;

/** A host for balancer tests: fixed address and weight, settable health. */
final class TestHost implements Host {
  private final InetSocketAddress address;
  private final int weight;
  private final HostStats stats = new HostStats();
  boolean healthy = true;
  boolean degraded;

  TestHost(String ip, int port, int weight) {
    this.address = new InetSocketAddress(ip, port);
    this.weight = weight;
  }

  static TestHost of(int n) {
    return new TestHost("10.0." + (n / 250) + "." + (n % 250 + 1), 80, 1);
  }

  TestHost unhealthy() {
    healthy = false;
    return this;
  }

  TestHost markDegraded() {
    healthy = false;
    degraded = true;
    return this;
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
    return Metadata.getDefaultInstance();
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
    throw new UnsupportedOperationException();
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
