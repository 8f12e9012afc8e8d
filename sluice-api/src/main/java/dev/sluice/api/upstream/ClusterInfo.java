package dev.sluice.api.upstream;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** What is fixed about a cluster for the lifetime of one version of its config. */
public interface ClusterInfo {
  String name();

  /** The config this cluster was built from (for {@code /config_dump}). */
  Cluster config();

  /** For {@code cluster.<name>.*} stats not in {@link ClusterStats} (e.g. {@code upstream_rq_503}). */
  dev.sluice.api.stats.StatsScope statsScope();

  ClusterStats stats();

  Duration connectTimeout();

  /** {@code per_connection_buffer_limit_bytes}: 1 MiB unless set, as Envoy. */
  int perConnectionBufferLimitBytes();

  /** Which HTTP protocol to speak upstream, from {@code HttpProtocolOptions} (or the legacy fields). */
  UpstreamProtocol upstreamProtocol();

  /** HTTP/2 settings to use upstream (defaults when not configured). */
  Http2ProtocolOptions http2Options();

  /** From {@code common_http_protocol_options.idle_timeout}; 1 hour unless set, as Envoy; ZERO disables. */
  Duration idleTimeout();

  /** {@code max_requests_per_connection}; 0 means unlimited. */
  long maxRequestsPerConnection();

  /** {@code upstream_bind_config.source_address}, or null. */
  @Nullable InetSocketAddress upstreamBindAddress();

  /** The {@code transport_socket} typed config (TLS), or null for plaintext. */
  @Nullable Any transportSocket();

  /** Circuit breaker limits and counts for the DEFAULT routing priority. */
  ResourceManager resourceManager();

  /**
   * The circuit breakers of a routing priority (a route's {@code priority}: DEFAULT or HIGH, each
   * with its own thresholds, as Envoy's). A cluster without per-priority breakers answers its
   * DEFAULT ones.
   */
  default ResourceManager resourceManager(io.envoyproxy.envoy.config.core.v3.RoutingPriority priority) {
    return resourceManager();
  }

  /** Envoy's HttpProtocolOptions choice of upstream protocol. */
  enum UpstreamProtocol {
    HTTP1,
    HTTP2,
    /** {@code use_downstream_protocol_config}: the protocol the downstream request came with. */
    USE_DOWNSTREAM,
    /** {@code auto_config}: ALPN over TLS, HTTP/1.1 over plaintext. */
    AUTO
  }
}
