package dev.sluice.http;

import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.http.HttpFilter;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.HeadersWithUnderscoresAction;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ServerHeaderTransformation;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * One HTTP connection manager's compiled, immutable settings (shared by all its connections).
 * Durations are nanoseconds; 0 means disabled.
 */
public record HttpConnectionManagerConfig(
    HttpConnectionManager proto,
    String statPrefix,
    HttpConnectionManagerStats stats,
    CodecType codecType,
    RouteConfigProvider routes,
    List<FilterEntry> filters,
    AccessLogger accessLogger,
    String serverName,
    ServerHeaderTransformation serverHeaderTransformation,
    boolean generateRequestId,
    boolean preserveExternalRequestId,
    boolean alwaysSetRequestIdInResponse,
    boolean useRemoteAddress,
    int xffNumTrustedHops,
    boolean skipXffAppend,
    String via,
    int maxRequestHeadersBytes,
    int maxHeadersCount,
    long idleTimeoutNanos,
    long maxConnectionDurationNanos,
    long maxStreamDurationNanos,
    long streamIdleTimeoutNanos,
    long requestTimeoutNanos,
    long requestHeadersTimeoutNanos,
    long drainTimeoutNanos,
    HeadersWithUnderscoresAction headersWithUnderscoresAction,
    boolean normalizePath,
    boolean mergeSlashes,
    PathWithEscapedSlashesAction pathWithEscapedSlashesAction,
    boolean stripMatchingHostPort,
    boolean stripAnyHostPort,
    Set<String> upgradeTypes,
    boolean proxy100Continue,
    boolean acceptHttp10,
    String defaultHostForHttp10,
    Http2ProtocolOptions http2Options,
    Http2CodecStats http2Stats,
    /** True while responses should drain-close their connection: the server's health check failed. */
    BooleanSupplier healthCheckDrainClose) {

  /** One HTTP filter of the chain: its Envoy name and its per-stream supplier. */
  public record FilterEntry(String name, Supplier<HttpFilter> supplier, boolean terminal) {}

  /** True when the upgrade type (lower-case, e.g. {@code websocket}) is enabled by upgrade_configs. */
  public boolean upgradeAllowed(String upgradeType) {
    return upgradeTypes.contains(upgradeType);
  }
}
