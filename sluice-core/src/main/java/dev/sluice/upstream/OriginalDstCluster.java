package dev.sluice.upstream;

import com.google.common.net.HostAndPort;
import com.google.common.net.InetAddresses;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancer;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.lb.LbConfig;
import dev.sluice.lb.LocalityGroup;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * ORIGINAL_DST: a host per destination, created when a worker first asks for it (from the
 * {@code x-envoy-original-dst-host} header, or {@code http_header_name}, when
 * {@code use_http_header} is set; else from the connection's original destination), optionally
 * with {@code upstream_port_override}. Hosts not picked during a {@code cleanup_interval} (5 s by
 * default) are removed.
 */
final class OriginalDstCluster extends ClusterImpl {
  static final String DEFAULT_HEADER = "x-envoy-original-dst-host";

  private final ConcurrentHashMap<InetSocketAddress, HostImpl> hosts = new ConcurrentHashMap<>();
  private final LoadBalancer[] balancers;
  private final ClusterContext ctx;
  private final boolean useHeader;
  private final String headerName;
  private final int portOverride;
  private final Duration cleanupInterval;
  private @Nullable ScheduledFuture<?> cleanup;
  private volatile boolean stopped;

  OriginalDstCluster(ClusterInfoImpl info, LbConfig lbConfig, ClusterContext ctx) {
    super(info, lbConfig, ctx.concurrency(), ctx.seed(), false, ctx.events());
    this.ctx = ctx;
    Cluster config = info.config();
    if (config.getLoadAssignment().getEndpointsCount() > 0) {
      throw new ConfigException("load_assignment", "ORIGINAL_DST clusters must have no load assignment");
    }
    var odst = config.getOriginalDstLbConfig();
    this.useHeader = odst.getUseHttpHeader();
    this.headerName = odst.getHttpHeaderName().isEmpty()
        ? DEFAULT_HEADER : odst.getHttpHeaderName().toLowerCase(Locale.ROOT);
    this.portOverride = odst.hasUpstreamPortOverride() ? odst.getUpstreamPortOverride().getValue() : 0;
    if (portOverride > 65535) {
      throw new ConfigException("original_dst_lb_config.upstream_port_override", "must be at most 65535");
    }
    if (config.hasCleanupInterval()) {
      var d = config.getCleanupInterval();
      cleanupInterval = Duration.ofSeconds(d.getSeconds(), d.getNanos());
      if (cleanupInterval.isNegative() || cleanupInterval.isZero()) {
        throw new ConfigException("cleanup_interval", "must be greater than 0");
      }
    } else {
      cleanupInterval = Duration.ofSeconds(5);
    }
    balancers = new LoadBalancer[ctx.concurrency()];
    for (int i = 0; i < balancers.length; i++) {
      balancers[i] = this::chooseHost;
    }
  }

  @Override
  public LoadBalancer loadBalancer(int workerIndex) {
    return balancers[workerIndex];
  }

  @Override
  void start() {
    long nanos = cleanupInterval.toNanos();
    cleanup = ctx.control().scheduleWithFixedDelay(this::cleanup, nanos, nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  void stop() {
    stopped = true;
    if (cleanup != null) {
      cleanup.cancel(false);
    }
  }

  private @Nullable Host chooseHost(LoadBalancerContext context) {
    InetSocketAddress destination = null;
    Http2Headers headers = context.downstreamHeaders();
    CharSequence override = useHeader && headers != null ? headers.get(headerName) : null;
    if (override != null) {
      destination = parse(override.toString());
      if (destination == null) {
        return null; // a header that is not ip:port selects no host, as Envoy
      }
    } else {
      destination = context.originalDestination();
    }
    if (destination == null || destination.getAddress() == null) {
      return null;
    }
    if (portOverride != 0) {
      destination = new InetSocketAddress(destination.getAddress(), portOverride);
    }
    HostImpl host = hosts.get(destination);
    if (host == null) {
      InetSocketAddress key = destination;
      HostImpl created = new HostImpl(info(), key, "", 1, 0, Locality.getDefaultInstance(),
          Metadata.getDefaultInstance());
      host = hosts.putIfAbsent(key, created);
      if (host == null) {
        host = created;
        ctx.control().execute(this::publishHosts);
      }
    }
    host.used = true;
    return host;
  }

  private static @Nullable InetSocketAddress parse(String value) {
    try {
      HostAndPort hp = HostAndPort.fromString(value.trim());
      if (!hp.hasPort() || !InetAddresses.isInetAddress(hp.getHost())) {
        return null;
      }
      return new InetSocketAddress(InetAddresses.forString(hp.getHost()), hp.getPort());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Control thread: removes hosts unused since the previous pass. */
  void cleanup() {
    if (stopped) {
      return;
    }
    boolean changed = false;
    for (HostImpl h : new ArrayList<>(hosts.values())) {
      if (h.used) {
        h.used = false;
      } else {
        hosts.remove(h.address(), h);
        changed = true;
      }
    }
    if (changed) {
      publishHosts();
    }
  }

  private void publishHosts() {
    if (stopped) {
      return;
    }
    List<Host> current = new ArrayList<>(hosts.values());
    publish(List.of(new LocalityGroup(0, Locality.getDefaultInstance(), 0, current)), 140);
  }
}
