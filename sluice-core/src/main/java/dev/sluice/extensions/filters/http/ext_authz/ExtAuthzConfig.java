package dev.sluice.extensions.filters.http.ext_authz;

import com.google.protobuf.util.Durations;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import dev.sluice.rbac.MetadataMatcherPredicate;
import dev.sluice.router.RuntimeFraction;
import dev.sluice.router.StringMatcher;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.type.matcher.v3.ListStringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code ExtAuthz}, shared by every stream of a connection manager.
 *
 * @param maxRequestBytes {@code with_request_body.max_request_bytes}, or 0 when the body is not sent
 * @param filterEnabled {@code filter_enabled}'s default value (runtime keys are not looked up)
 * @param filterEnabledMetadata {@code filter_enabled_metadata}: the check runs only when it matches
 * @param allowedHeaders {@code allowed_headers}: when non-empty, only matching request headers are sent
 */
record ExtAuthzConfig(
    GrpcTarget target,
    boolean failureModeAllow,
    boolean failureModeAllowHeaderAdd,
    int statusOnError,
    int maxRequestBytes,
    boolean allowPartialMessage,
    boolean packAsBytes,
    boolean clearRouteCache,
    RuntimeFraction filterEnabled,
    @Nullable MetadataMatcherPredicate filterEnabledMetadata,
    boolean denyAtDisable,
    boolean includePeerCertificate,
    boolean includeTlsSession,
    List<String> metadataContextNamespaces,
    List<StringMatcher> allowedHeaders,
    List<StringMatcher> disallowedHeaders,
    ExtAuthzStats stats) {
  static final String CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check";
  /** Envoy's GrpcService default timeout when none is set. */
  static final long DEFAULT_TIMEOUT_NANOS = 200_000_000L;

  /** Whether this request is to be checked: {@code filter_enabled_metadata} and {@code filter_enabled}. */
  boolean enabled(StreamInfo info) {
    MetadataMatcherPredicate m = filterEnabledMetadata;
    if (m != null && !m.matches(info.dynamicMetadataValue(m.filter(), m.path()))) {
      return false;
    }
    return filterEnabled == RuntimeFraction.ALWAYS || filterEnabled.enabled(ThreadLocalRandom.current().nextLong());
  }

  static ExtAuthzConfig compile(ExtAuthz c, TargetFactory targets, ExtAuthzStats stats) {
    if (c.hasHttpService()) {
      throw new ConfigException("http_service", "the HTTP authorization service is not supported; use grpc_service");
    }
    if (!c.hasGrpcService()) {
      throw new ConfigException("services", "one of grpc_service or http_service is required");
    }
    if (c.getTransportApiVersion() != ApiVersion.V3 && c.getTransportApiVersion() != ApiVersion.AUTO) {
      throw new ConfigException("transport_api_version", "only the V3 transport API is supported");
    }
    GrpcService g = c.getGrpcService();
    if (!g.hasEnvoyGrpc()) {
      throw new ConfigException("grpc_service", "only envoy_grpc is supported (google_grpc is not)");
    }
    if (g.getEnvoyGrpc().getClusterName().isEmpty()) {
      throw new ConfigException("grpc_service.envoy_grpc.cluster_name", "value length must be at least 1 characters");
    }
    long timeout = g.hasTimeout() ? Durations.toNanos(g.getTimeout()) : DEFAULT_TIMEOUT_NANOS;
    if (timeout < 0) {
      throw new ConfigException("grpc_service.timeout", "value must not be negative");
    }
    String authority = g.getEnvoyGrpc().getAuthority().isEmpty() ? g.getEnvoyGrpc().getClusterName() : g.getEnvoyGrpc().getAuthority();
    GrpcTarget target = targets.create(g.getEnvoyGrpc().getClusterName(), authority, CHECK_PATH, timeout);
    int statusOnError = 403;
    if (c.hasStatusOnError() && c.getStatusOnError().getCodeValue() != 0) {
      statusOnError = c.getStatusOnError().getCodeValue();
      if (statusOnError < 100 || statusOnError > 599) {
        throw new ConfigException("status_on_error.code", "not an HTTP status code: " + statusOnError);
      }
    }
    if (c.hasWithRequestBody() && c.getWithRequestBody().getMaxRequestBytes() == 0) {
      throw new ConfigException("with_request_body.max_request_bytes", "value must be greater than 0");
    }
    return new ExtAuthzConfig(
        target,
        c.getFailureModeAllow(),
        c.getFailureModeAllowHeaderAdd(),
        statusOnError,
        c.hasWithRequestBody() ? c.getWithRequestBody().getMaxRequestBytes() : 0,
        c.getWithRequestBody().getAllowPartialMessage(),
        c.getWithRequestBody().getPackAsBytes(),
        c.getClearRouteCache(),
        c.hasFilterEnabled() ? RuntimeFraction.of(c.getFilterEnabled().getDefaultValue(), "filter_enabled.default_value") : RuntimeFraction.ALWAYS,
        c.hasFilterEnabledMetadata() ? MetadataMatcherPredicate.compile(c.getFilterEnabledMetadata(), "filter_enabled_metadata") : null,
        c.hasDenyAtDisable() && c.getDenyAtDisable().getDefaultValue().getValue(),
        c.getIncludePeerCertificate(),
        c.getIncludeTlsSession(),
        List.copyOf(c.getMetadataContextNamespacesList()),
        matchers(c.getAllowedHeaders(), "allowed_headers"),
        matchers(c.getDisallowedHeaders(), "disallowed_headers"),
        stats);
  }

  private static List<StringMatcher> matchers(ListStringMatcher list, String path) {
    List<StringMatcher> out = new ArrayList<>();
    for (int i = 0; i < list.getPatternsCount(); i++) {
      out.add(StringMatcher.compile(list.getPatterns(i), path + ".patterns[" + i + "]"));
    }
    return List.copyOf(out);
  }

  /** Makes the call target of a cluster (the server's pools and cluster manager). */
  interface TargetFactory {
    GrpcTarget create(String cluster, String authority, String path, long timeoutNanos);
  }
}
