package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code RouteMatch}: path (or CONNECT), headers, query parameters, gRPC content type and
 * {@code runtime_fraction}, all of which must hold.
 */
final class RouteMatcher {
  private static final AsciiString GRPC = AsciiString.of("application/grpc");
  private static final AsciiString CONNECT = AsciiString.of("CONNECT");

  final PathMatcher path;
  private final HeaderMatcher[] headers;
  private final QueryParameterMatcher[] queryParameters;
  private final boolean grpc;
  private final @Nullable RuntimeFraction runtimeFraction;

  private RouteMatcher(
      PathMatcher path,
      HeaderMatcher[] headers,
      QueryParameterMatcher[] queryParameters,
      boolean grpc,
      @Nullable RuntimeFraction runtimeFraction) {
    this.path = path;
    this.headers = headers;
    this.queryParameters = queryParameters;
    this.grpc = grpc;
    this.runtimeFraction = runtimeFraction;
  }

  static RouteMatcher compile(RouteMatch m, String fieldPath) {
    PathMatcher path = PathMatcher.compile(m, fieldPath);
    HeaderMatcher[] headers = new HeaderMatcher[m.getHeadersCount()];
    for (int i = 0; i < headers.length; i++) {
      headers[i] = HeaderMatcher.compile(m.getHeaders(i), fieldPath + ".headers[" + i + "]");
    }
    QueryParameterMatcher[] query = new QueryParameterMatcher[m.getQueryParametersCount()];
    for (int i = 0; i < query.length; i++) {
      query[i] =
          QueryParameterMatcher.compile(
              m.getQueryParameters(i), fieldPath + ".query_parameters[" + i + "]");
    }
    if (m.hasTlsContext()) {
      throw new ConfigException(fieldPath + ".tls_context", "tls_context matching is not supported");
    }
    if (m.getDynamicMetadataCount() > 0) {
      throw new ConfigException(fieldPath + ".dynamic_metadata", "dynamic_metadata matching is not supported");
    }
    if (m.getFilterStateCount() > 0) {
      throw new ConfigException(fieldPath + ".filter_state", "filter_state matching is not supported");
    }
    // The runtime key is not consulted (no runtime layer): the default value decides.
    RuntimeFraction fraction =
        m.hasRuntimeFraction()
            ? RuntimeFraction.of(
                m.getRuntimeFraction().getDefaultValue(), fieldPath + ".runtime_fraction.default_value")
            : null;
    return new RouteMatcher(path, headers, query, m.hasGrpc(), fraction);
  }

  /**
   * @param pathValue the request's {@code :path}, or null (CONNECT)
   * @param pathEnd where the path ends before its query/fragment
   */
  boolean matches(Http2Headers h, @Nullable CharSequence pathValue, int pathEnd, long random) {
    if (path.needsPath()) {
      if (pathValue == null || path.matchedLength(pathValue, pathEnd) < 0) {
        return false;
      }
    } else if (h.method() == null || !CONNECT.contentEquals(h.method())) {
      return false;
    }
    if (grpc && !isGrpc(h)) {
      return false;
    }
    for (HeaderMatcher m : headers) {
      if (!m.matches(h)) {
        return false;
      }
    }
    if (queryParameters.length > 0) {
      if (pathValue == null) {
        return false;
      }
      for (QueryParameterMatcher q : queryParameters) {
        if (!q.matches(pathValue)) {
          return false;
        }
      }
    }
    return runtimeFraction == null || runtimeFraction.enabled(random);
  }

  /** Envoy's isGrpcRequestHeaders: a path and content-type {@code application/grpc} or {@code application/grpc+*}. */
  static boolean isGrpc(Http2Headers h) {
    CharSequence ct = h.get(HttpHeaderNames.CONTENT_TYPE);
    if (ct == null || h.path() == null || ct.length() < GRPC.length()) {
      return false;
    }
    if (!StringMatcher.regionMatches(ct, 0, "application/grpc", false)) {
      return false;
    }
    return ct.length() == GRPC.length() || ct.charAt(GRPC.length()) == '+';
  }
}
