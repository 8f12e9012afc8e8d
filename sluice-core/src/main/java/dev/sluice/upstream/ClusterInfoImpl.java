package dev.sluice.upstream;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.api.upstream.ClusterStats;
import dev.sluice.api.upstream.ResourceManager;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A cluster's fixed settings, read and validated from its proto once. The HTTP protocol comes from
 * {@code typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]}
 * or, when absent, from the legacy cluster fields.
 */
public final class ClusterInfoImpl implements ClusterInfo {
  static final String HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
  private static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);

  private final Cluster config;
  private final StatsScope scope;
  private final ClusterStats stats;
  private final Duration connectTimeout;
  private final int bufferLimit;
  private final UpstreamProtocol protocol;
  private final Http2ProtocolOptions http2Options;
  private final Duration idleTimeout;
  private final long maxRequestsPerConnection;
  private final @Nullable InetSocketAddress bindAddress;
  private final @Nullable Any transportSocket;
  private final ResourceManager resourceManager;
  private final ResourceManager highPriorityResourceManager;
  private final Counter upstreamCxPoolOverflow;
  private final Duration maxConnectionDuration;
  private final @Nullable Counter upstreamCxMaxDurationReached;

  public ClusterInfoImpl(Cluster config, StatsScope root) {
    this.config = config;
    if (config.getName().isEmpty()) {
      throw new ConfigException("name", "cluster name must not be empty");
    }
    String statName = config.getAltStatName().isEmpty() ? config.getName() : config.getAltStatName();
    this.scope = root.scope("cluster." + statName + ".");
    this.connectTimeout = config.hasConnectTimeout()
        ? positive(config.getConnectTimeout(), "connect_timeout") : DEFAULT_CONNECT_TIMEOUT;
    this.bufferLimit = config.hasPerConnectionBufferLimitBytes()
        ? (int) Math.min(Integer.MAX_VALUE, config.getPerConnectionBufferLimitBytes().getValue() & 0xFFFFFFFFL)
        : 1024 * 1024;

    HttpProtocolOptions common;
    long maxRequests;
    Any typed = config.getTypedExtensionProtocolOptionsMap().get(HTTP_PROTOCOL_OPTIONS);
    if (typed != null) {
      String path = "typed_extension_protocol_options[\"" + HTTP_PROTOCOL_OPTIONS + "\"]";
      if (config.hasHttp2ProtocolOptions() || config.hasCommonHttpProtocolOptions()
          || config.hasHttpProtocolOptions()) {
        throw new ConfigException(path, "cannot be combined with the legacy cluster fields"
            + " http_protocol_options, http2_protocol_options or common_http_protocol_options");
      }
      io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions options;
      try {
        options = typed.unpack(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.class);
      } catch (InvalidProtocolBufferException e) {
        throw new ConfigException(path, "cannot decode HttpProtocolOptions: " + e.getMessage(), e);
      }
      common = options.getCommonHttpProtocolOptions();
      // Envoy takes the cluster's legacy max_requests_per_connection next to HttpProtocolOptions
      // (Istio's xds-grpc cluster sets both) and refuses only two values for the one setting.
      if (config.hasMaxRequestsPerConnection() && common.hasMaxRequestsPerConnection()) {
        throw new ConfigException("max_requests_per_connection", "only one of max_requests_per_connection"
            + " from Cluster or HttpProtocolOptions can be specified");
      }
      maxRequests = common.hasMaxRequestsPerConnection() ? common.getMaxRequestsPerConnection().getValue()
          : config.hasMaxRequestsPerConnection() ? config.getMaxRequestsPerConnection().getValue() : 0;
      switch (options.getUpstreamProtocolOptionsCase()) {
        case EXPLICIT_HTTP_CONFIG -> {
          ExplicitHttpConfig explicit = options.getExplicitHttpConfig();
          switch (explicit.getProtocolConfigCase()) {
            case HTTP_PROTOCOL_OPTIONS -> {
              protocol = UpstreamProtocol.HTTP1;
              http2Options = Http2ProtocolOptions.getDefaultInstance();
            }
            case HTTP2_PROTOCOL_OPTIONS -> {
              protocol = UpstreamProtocol.HTTP2;
              http2Options = explicit.getHttp2ProtocolOptions();
            }
            case HTTP3_PROTOCOL_OPTIONS -> throw new ConfigException(
                path + ".explicit_http_config.http3_protocol_options", "HTTP/3 upstreams are not supported");
            default -> throw new ConfigException(path + ".explicit_http_config", "a protocol must be set");
          }
        }
        case USE_DOWNSTREAM_PROTOCOL_CONFIG -> {
          protocol = UpstreamProtocol.USE_DOWNSTREAM;
          http2Options = options.getUseDownstreamProtocolConfig().getHttp2ProtocolOptions();
        }
        case AUTO_CONFIG -> {
          protocol = UpstreamProtocol.AUTO;
          http2Options = options.getAutoConfig().getHttp2ProtocolOptions();
        }
        default -> throw new ConfigException(path + ".upstream_protocol_options",
            "one of explicit_http_config, use_downstream_protocol_config or auto_config is required");
      }
    } else {
      common = config.getCommonHttpProtocolOptions();
      maxRequests = config.hasMaxRequestsPerConnection()
          ? config.getMaxRequestsPerConnection().getValue()
          : common.hasMaxRequestsPerConnection() ? common.getMaxRequestsPerConnection().getValue() : 0;
      http2Options = config.getHttp2ProtocolOptions();
      if (config.getProtocolSelection() == Cluster.ClusterProtocolSelection.USE_DOWNSTREAM_PROTOCOL) {
        protocol = UpstreamProtocol.USE_DOWNSTREAM;
      } else {
        protocol = config.hasHttp2ProtocolOptions() ? UpstreamProtocol.HTTP2 : UpstreamProtocol.HTTP1;
      }
    }
    this.maxRequestsPerConnection = maxRequests;
    this.idleTimeout = common.hasIdleTimeout()
        ? Duration.ofSeconds(common.getIdleTimeout().getSeconds(), common.getIdleTimeout().getNanos())
        : DEFAULT_IDLE_TIMEOUT;
    this.maxConnectionDuration = common.hasMaxConnectionDuration()
        ? Duration.ofSeconds(common.getMaxConnectionDuration().getSeconds(), common.getMaxConnectionDuration().getNanos())
        : Duration.ZERO;
    this.bindAddress = config.getUpstreamBindConfig().hasSourceAddress()
        ? Addresses.bindAddress(config.getUpstreamBindConfig().getSourceAddress(),
            "upstream_bind_config.source_address")
        : null;
    this.transportSocket = config.getTransportSocket().hasTypedConfig()
        ? config.getTransportSocket().getTypedConfig() : null;
    this.resourceManager = new ResourceManagerImpl(config.getCircuitBreakers(), RoutingPriority.DEFAULT, scope);
    this.highPriorityResourceManager =
        new ResourceManagerImpl(config.getCircuitBreakers(), RoutingPriority.HIGH, scope);
    this.upstreamCxPoolOverflow = scope.counter("upstream_cx_pool_overflow");
    // Made only for a cluster that sets the limit (no counter per cluster for a rare setting).
    this.upstreamCxMaxDurationReached = maxConnectionDuration.isZero() || maxConnectionDuration.isNegative()
        ? null : scope.counter("upstream_cx_max_duration_reached");
    this.stats = new ClusterStats(scope);
  }

  private static Duration positive(com.google.protobuf.Duration d, String path) {
    Duration value = Duration.ofSeconds(d.getSeconds(), d.getNanos());
    if (value.isNegative() || value.isZero()) {
      throw new ConfigException(path, "must be greater than 0, got " + value);
    }
    return value;
  }

  @Override
  public String name() {
    return config.getName();
  }

  @Override
  public Cluster config() {
    return config;
  }

  @Override
  public StatsScope statsScope() {
    return scope;
  }

  @Override
  public ClusterStats stats() {
    return stats;
  }

  @Override
  public Duration connectTimeout() {
    return connectTimeout;
  }

  @Override
  public int perConnectionBufferLimitBytes() {
    return bufferLimit;
  }

  @Override
  public UpstreamProtocol upstreamProtocol() {
    return protocol;
  }

  @Override
  public Http2ProtocolOptions http2Options() {
    return http2Options;
  }

  @Override
  public Duration idleTimeout() {
    return idleTimeout;
  }

  @Override
  public long maxRequestsPerConnection() {
    return maxRequestsPerConnection;
  }

  @Override
  public @Nullable InetSocketAddress upstreamBindAddress() {
    return bindAddress;
  }

  @Override
  public @Nullable Any transportSocket() {
    return transportSocket;
  }

  @Override
  public ResourceManager resourceManager() {
    return resourceManager;
  }

  /** Envoy has DEFAULT and HIGH breakers, each with its own thresholds. */
  @Override
  public ResourceManager resourceManager(RoutingPriority priority) {
    return priority == RoutingPriority.HIGH ? highPriorityResourceManager : resourceManager;
  }

  /**
   * {@code common_http_protocol_options.max_connection_duration}: an upstream connection that old is
   * drained; ZERO (unset) means no limit.
   */
  public Duration maxConnectionDuration() {
    return maxConnectionDuration;
  }

  /** {@code upstream_cx_max_duration_reached}; null unless {@link #maxConnectionDuration()} is set. */
  public @Nullable Counter upstreamCxMaxDurationReached() {
    return upstreamCxMaxDurationReached;
  }

  /** {@code upstream_cx_pool_overflow}: a new connection pool refused by {@code max_connection_pools}. */
  public Counter upstreamCxPoolOverflow() {
    return upstreamCxPoolOverflow;
  }
}
