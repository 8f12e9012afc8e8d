package dev.sluice.listener;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.overload.v3.ResourceMonitor;
import io.envoyproxy.envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The overload manager's {@code envoy.resource_monitors.global_downstream_max_connections}: one
 * count of open downstream connections over all listeners (except those with
 * {@code ignore_global_conn_limit}); a connection over the limit is closed at accept.
 */
public final class GlobalConnectionLimit {
  static final String MONITOR_NAME = "envoy.resource_monitors.global_downstream_max_connections";
  private final long max;
  private final AtomicLong active = new AtomicLong();

  public GlobalConnectionLimit(long max) {
    this.max = max;
  }

  public static GlobalConnectionLimit unlimited() {
    return new GlobalConnectionLimit(Long.MAX_VALUE);
  }

  /** The limit Istio's bootstrap sets in {@code overload_manager.resource_monitors}, or unlimited. */
  public static GlobalConnectionLimit fromBootstrap(Bootstrap bootstrap) {
    var monitors = bootstrap.getOverloadManager().getResourceMonitorsList();
    for (int i = 0; i < monitors.size(); i++) {
      ResourceMonitor m = monitors.get(i);
      if (m.getName().equals(MONITOR_NAME) || m.getTypedConfig().getTypeUrl().endsWith(DownstreamConnectionsConfig.getDescriptor().getFullName())) {
        try {
          return new GlobalConnectionLimit(
              m.getTypedConfig().unpack(DownstreamConnectionsConfig.class).getMaxActiveDownstreamConnections());
        } catch (InvalidProtocolBufferException e) {
          throw new ConfigException("overload_manager.resource_monitors[" + i + "].typed_config", "invalid DownstreamConnectionsConfig", e);
        }
      }
    }
    return unlimited();
  }

  public long max() {
    return max;
  }

  public long active() {
    return active.get();
  }

  /** Takes one connection slot; false (nothing taken) when the limit is reached. */
  boolean tryAcquire() {
    if (active.incrementAndGet() > max) {
      active.decrementAndGet();
      return false;
    }
    return true;
  }

  void release() {
    active.decrementAndGet();
  }
}
