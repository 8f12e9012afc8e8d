package dev.sluice.upstream;

import com.google.common.net.InetAddresses;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.HostStats;
import dev.sluice.api.upstream.OutlierMonitor;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import java.net.Inet6Address;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cluster member. Its identity outlives membership updates that keep its address (so per-host
 * stats and connection pools survive EDS pushes); the control thread may then change its weight,
 * priority, locality and metadata before publishing a new snapshot. Health is a set of
 * {@link HealthFlag} bits: {@link #healthy()} means no failure and no degraded bit (Envoy's coarse
 * health HEALTHY), {@link #degraded()} means no failure but a degraded bit. A LOGICAL_DNS host's
 * address follows DNS (new connections use the newest address, as Envoy's logical host). A pipe
 * host ({@code address.pipe}) connects to a Unix domain socket.
 */
public final class HostImpl implements Host {
  private final ClusterInfo cluster;
  private final String hostname;
  private final HostStats stats = new HostStats();
  private final AtomicInteger healthFlags = new AtomicInteger();
  private volatile SocketAddress socketAddress;
  private volatile InetSocketAddress address;
  private volatile String addressString;
  private volatile int weight;
  private volatile int priority;
  private volatile Locality locality;
  private volatile Metadata metadata;
  private volatile OutlierMonitor outlierMonitor = OutlierMonitor.NONE;
  private volatile HealthCheckMonitor healthCheckMonitor = HealthCheckMonitor.NONE;
  private volatile Endpoint.HealthCheckConfig healthCheckConfig = Endpoint.HealthCheckConfig.getDefaultInstance();
  /** Set by ORIGINAL_DST picks, cleared by its cleanup pass. */
  volatile boolean used = true;

  /** @param address an {@link InetSocketAddress}, or a {@link DomainSocketAddress} for a pipe */
  public HostImpl(ClusterInfo cluster, SocketAddress address, String hostname, int weight,
      int priority, Locality locality, Metadata metadata) {
    this.cluster = cluster;
    this.hostname = hostname;
    setAddress(address);
    this.weight = weight;
    this.priority = priority;
    this.locality = locality;
    this.metadata = metadata;
  }

  /** Envoy's address string: {@code 10.0.0.1:80}, {@code [::1]:80}, a pipe's path. */
  public static String format(SocketAddress address) {
    return address instanceof DomainSocketAddress pipe ? Addresses.format(pipe)
        : address instanceof dev.sluice.listener.InternalAddress internal ? internal.toString()
        : format((InetSocketAddress) address);
  }

  /** Envoy's address string of an IP address: {@code 10.0.0.1:80}, {@code [::1]:80}. */
  public static String format(InetSocketAddress address) {
    if (address.getAddress() == null) {
      return address.getHostString() + ":" + address.getPort();
    }
    String ip = InetAddresses.toAddrString(address.getAddress());
    if (address.getAddress() instanceof Inet6Address) {
      int scope = ip.indexOf('%');
      return "[" + (scope >= 0 ? ip.substring(0, scope) : ip) + "]:" + address.getPort();
    }
    return ip + ":" + address.getPort();
  }

  @Override
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public SocketAddress socketAddress() {
    return socketAddress;
  }

  @Override
  public String addressString() {
    return addressString;
  }

  @Override
  public String hostname() {
    return hostname;
  }

  @Override
  public int weight() {
    return weight;
  }

  @Override
  public int priority() {
    return priority;
  }

  @Override
  public Locality locality() {
    return locality;
  }

  @Override
  public Metadata metadata() {
    return metadata;
  }

  @Override
  public boolean healthy() {
    return (healthFlags.get() & (HealthFlag.FAILURE_MASK | HealthFlag.DEGRADED_MASK)) == 0;
  }

  @Override
  public boolean degraded() {
    int flags = healthFlags.get();
    return (flags & HealthFlag.FAILURE_MASK) == 0 && (flags & HealthFlag.DEGRADED_MASK) != 0;
  }

  @Override
  public ClusterInfo cluster() {
    return cluster;
  }

  @Override
  public HostStats stats() {
    return stats;
  }

  @Override
  public OutlierMonitor outlierMonitor() {
    return outlierMonitor;
  }

  /** The cluster's outlier detector attaches its per-host monitor here. Control thread. */
  public void setOutlierMonitor(OutlierMonitor monitor) {
    this.outlierMonitor = monitor;
  }

  @Override
  public HealthCheckMonitor healthCheckMonitor() {
    return healthCheckMonitor;
  }

  /** The cluster's health checker attaches its per-host monitor here. Control thread. */
  public void setHealthCheckMonitor(HealthCheckMonitor monitor) {
    this.healthCheckMonitor = monitor;
  }

  /**
   * The endpoint's {@code health_check_config}: the port and hostname its active checks use instead
   * of its own, or its opt-out ({@code disable_active_health_check}).
   */
  public Endpoint.HealthCheckConfig healthCheckConfig() {
    return healthCheckConfig;
  }

  void setHealthCheckConfig(Endpoint.HealthCheckConfig config) {
    this.healthCheckConfig = config;
  }

  public boolean hasHealthFlag(HealthFlag flag) {
    return (healthFlags.get() & flag.bit) != 0;
  }

  /**
   * Sets or clears one health bit; returns true when the bit changed. The cluster's snapshot sees
   * the change once {@link ClusterImpl#refreshHealth()} runs on the control thread.
   */
  public boolean setHealthFlag(HealthFlag flag, boolean set) {
    while (true) {
      int old = healthFlags.get();
      int next = set ? old | flag.bit : old & ~flag.bit;
      if (old == next) {
        return false;
      }
      if (healthFlags.compareAndSet(old, next)) {
        return true;
      }
    }
  }

  void update(int weight, int priority, Locality locality, Metadata metadata) {
    this.weight = weight;
    this.priority = priority;
    this.locality = locality;
    this.metadata = metadata;
  }

  void setAddress(SocketAddress address) {
    this.socketAddress = address;
    // The SPI's address() of a pipe host: unresolved, the path and port 0 (printing only).
    this.address = address instanceof InetSocketAddress ip ? ip
        : InetSocketAddress.createUnresolved(format(address), 0);
    this.addressString = format(address);
  }

  @Override
  public String toString() {
    return addressString;
  }
}
