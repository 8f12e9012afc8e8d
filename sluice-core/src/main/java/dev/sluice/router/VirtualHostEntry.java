package dev.sluice.router;

import io.envoyproxy.envoy.config.route.v3.VirtualHost.TlsRequirementType;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** A compiled virtual host: its routes in order (first match wins) and its host-wide settings. */
public final class VirtualHostEntry {
  private static final AsciiString X_FORWARDED_PROTO = AsciiString.of("x-forwarded-proto");
  private static final AsciiString X_ENVOY_INTERNAL = AsciiString.of("x-envoy-internal");

  private final String name;
  private final RouteEntry[] routes;
  private final TlsRequirementType requireTls;
  private final @Nullable RouteEntry tlsRedirect;
  final HeaderMutations requestMutations;
  final HeaderMutations responseMutations;
  final Map<String, Object> filterConfigs;
  final @Nullable Object legacyCors;
  final @Nullable RetryPolicy retryPolicy;
  final List<MirrorPolicy> mirrorPolicies;
  /** {@code per_request_buffer_limit_bytes}, or -1. */
  final int perRequestBufferLimitBytes;
  private final boolean includeRequestAttemptCount;
  private final boolean includeAttemptCountInResponse;

  VirtualHostEntry(
      String name,
      int routeCount,
      TlsRequirementType requireTls,
      HeaderMutations requestMutations,
      HeaderMutations responseMutations,
      Map<String, Object> filterConfigs,
      @Nullable Object legacyCors,
      @Nullable RetryPolicy retryPolicy,
      List<MirrorPolicy> mirrorPolicies,
      int perRequestBufferLimitBytes,
      boolean includeRequestAttemptCount,
      boolean includeAttemptCountInResponse) {
    this.name = name;
    this.routes = new RouteEntry[routeCount];
    this.requireTls = requireTls;
    this.requestMutations = requestMutations;
    this.responseMutations = responseMutations;
    this.filterConfigs = filterConfigs;
    this.legacyCors = legacyCors;
    this.retryPolicy = retryPolicy;
    this.mirrorPolicies = mirrorPolicies;
    this.perRequestBufferLimitBytes = perRequestBufferLimitBytes;
    this.includeRequestAttemptCount = includeRequestAttemptCount;
    this.includeAttemptCountInResponse = includeAttemptCountInResponse;
    this.tlsRedirect = requireTls == TlsRequirementType.NONE ? null : RouteEntry.tlsRedirect(this);
  }

  /** Filled once by the compiler before the table is published. */
  RouteEntry[] routesForCompile() {
    return routes;
  }

  public String name() {
    return name;
  }

  /** {@code include_request_attempt_count}: send {@code x-envoy-attempt-count} upstream. */
  public boolean includeRequestAttemptCount() {
    return includeRequestAttemptCount;
  }

  /** {@code include_attempt_count_in_response}: send {@code x-envoy-attempt-count} downstream. */
  public boolean includeAttemptCountInResponse() {
    return includeAttemptCountInResponse;
  }

  /**
   * The first route matching the request, or null. When {@code require_tls} is not met the answer is
   * a 301 redirect to https (Envoy decides on {@code x-forwarded-proto}, falling back here to
   * {@code :scheme} when the connection manager has not set it; EXTERNAL_ONLY exempts requests
   * marked {@code x-envoy-internal: true}).
   *
   * @param random the stream's random value (runtime fractions, weighted clusters)
   */
  public @Nullable RouteEntry route(Http2Headers headers, long random) {
    if (tlsRedirect != null && needsTlsRedirect(headers)) {
      return tlsRedirect;
    }
    CharSequence path = headers.path();
    int pathEnd = path == null ? 0 : RequestViews.pathEnd(path);
    for (RouteEntry r : routes) {
      if (r.matcher.matches(headers, path, pathEnd, random)) {
        return r;
      }
    }
    return null;
  }

  private boolean needsTlsRedirect(Http2Headers headers) {
    CharSequence scheme = headers.get(X_FORWARDED_PROTO);
    if (scheme == null) {
      scheme = headers.scheme();
    }
    if (scheme != null && AsciiString.contentEqualsIgnoreCase(scheme, "https")) {
      return false;
    }
    if (requireTls == TlsRequirementType.EXTERNAL_ONLY) {
      CharSequence internal = headers.get(X_ENVOY_INTERNAL);
      return internal == null || !AsciiString.contentEquals(internal, "true");
    }
    return true;
  }

  @Override
  public String toString() {
    return "VirtualHost[" + name + "]";
  }
}
