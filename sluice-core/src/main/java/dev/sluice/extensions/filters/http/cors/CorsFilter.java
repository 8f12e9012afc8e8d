package dev.sluice.extensions.filters.http.cors;

import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterCallbacks;
import dev.sluice.api.http.Route;
import dev.sluice.api.stats.Counter;
import dev.sluice.router.RouteEntry;
import dev.sluice.router.StringMatcher;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's CORS filter for one stream (https://fetch.spec.whatwg.org/#http-cors-protocol). The route's
 * policies are walked most specific first, each field taken from the first level that sets it;
 * {@code filter_enabled}/{@code shadow_enabled} come from the most specific policy only. A request
 * with an {@code Origin} counts as origin_valid/origin_invalid. A preflight (OPTIONS with
 * {@code Origin} and {@code Access-Control-Request-Method}) is answered locally with 200 and the
 * allow-* headers, unless the origin is not allowed and {@code forward_not_matching_preflights}
 * (default true) sends it on. Other CORS requests with an allowed origin get
 * {@code access-control-allow-origin}, {@code -allow-credentials} and {@code -expose-headers} on
 * their response.
 */
final class CorsFilter implements HttpFilter {
  private static final AsciiString OPTIONS = AsciiString.of("OPTIONS");
  private static final AsciiString ACCESS_CONTROL_REQUEST_METHOD = AsciiString.of("access-control-request-method");
  private static final AsciiString ACCESS_CONTROL_REQUEST_HEADERS = AsciiString.of("access-control-request-headers");
  private static final AsciiString ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK =
      AsciiString.of("access-control-request-private-network");
  private static final AsciiString ALLOW_ORIGIN = HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN;
  private static final AsciiString ALLOW_CREDENTIALS = HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS;
  private static final AsciiString ALLOW_METHODS = HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS;
  private static final AsciiString ALLOW_HEADERS = HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS;
  private static final AsciiString MAX_AGE = HttpHeaderNames.ACCESS_CONTROL_MAX_AGE;
  private static final AsciiString EXPOSE_HEADERS = HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS;
  private static final AsciiString ALLOW_PRIVATE_NETWORK = AsciiString.of("access-control-allow-private-network");
  private static final String TRUE = "true";

  private final Counter originValid;
  private final Counter originInvalid;
  private final LongSupplier random;
  private @Nullable HttpFilterCallbacks callbacks;
  private List<CorsPolicyConfig> policies = List.of();
  /** The allowed Origin of this request, echoed on the response; null when not a valid CORS request. */
  private @Nullable String latchedOrigin;
  /** The allow-* headers of the preflight answer this filter sent, applied to that local reply. */
  private @Nullable Http2Headers preflightAnswer;

  CorsFilter(Counter originValid, Counter originInvalid, LongSupplier random) {
    this.originValid = originValid;
    this.originInvalid = originInvalid;
    this.random = random;
  }

  @Override
  public void setCallbacks(HttpFilterCallbacks callbacks) {
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus decodeHeaders(Http2Headers headers, boolean endStream) {
    Route route = callbacks == null ? null : callbacks.route();
    if (route == null) {
      return FilterStatus.CONTINUE;
    }
    policies = policiesOf(route);
    if (policies.isEmpty()) {
      return FilterStatus.CONTINUE;
    }
    CorsPolicyConfig first = policies.get(0);
    long r = random.getAsLong();
    boolean enabled = first.enabled(r);
    boolean shadow = first.shadowEnabled(r);
    if (!enabled && !shadow) {
      return FilterStatus.CONTINUE;
    }
    CharSequence origin = headers.get(HttpHeaderNames.ORIGIN);
    if (origin == null || origin.length() == 0) {
      return FilterStatus.CONTINUE;
    }
    boolean allowed = isOriginAllowed(origin);
    if (allowed) {
      originValid.inc();
    } else {
      originInvalid.inc();
    }
    if (!enabled) {
      return FilterStatus.CONTINUE; // shadow mode: count only
    }
    if (allowed) {
      latchedOrigin = origin.toString();
    }
    CharSequence requestMethod = headers.get(ACCESS_CONTROL_REQUEST_METHOD);
    if (!OPTIONS.contentEquals(nullToEmpty(headers.method()))
        || requestMethod == null
        || requestMethod.length() == 0) {
      return FilterStatus.CONTINUE;
    }
    if (!allowed && forwardNotMatchingPreflights()) {
      return FilterStatus.CONTINUE;
    }
    Http2Headers answer = new io.netty.handler.codec.http2.DefaultHttp2Headers();
    if (allowed) {
      answer.set(ALLOW_ORIGIN, origin);
    }
    if (allowCredentials()) {
      answer.set(ALLOW_CREDENTIALS, TRUE);
    }
    String methods = firstNonEmpty(Field.ALLOW_METHODS);
    if (!methods.isEmpty()) {
      answer.set(ALLOW_METHODS, methods.equals("*") ? requestMethod : methods);
    }
    String allowHeaders = firstNonEmpty(Field.ALLOW_HEADERS);
    if (!allowHeaders.isEmpty()) {
      CharSequence requested = headers.get(ACCESS_CONTROL_REQUEST_HEADERS);
      if (!allowHeaders.equals("*")) {
        answer.set(ALLOW_HEADERS, allowHeaders);
      } else if (requested != null) {
        answer.set(ALLOW_HEADERS, requested);
      }
    }
    String maxAge = firstNonEmpty(Field.MAX_AGE);
    if (!maxAge.isEmpty()) {
      answer.set(MAX_AGE, maxAge);
    }
    CharSequence pna = headers.get(ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK);
    if (allowPrivateNetworkAccess() && pna != null && AsciiString.contentEquals(pna, TRUE)) {
      answer.set(ALLOW_PRIVATE_NETWORK, TRUE);
    }
    preflightAnswer = answer;
    latchedOrigin = null; // the answer carries its own headers
    callbacks.sendLocalReply(200, "", null, "cors_response");
    return FilterStatus.STOP_ITERATION;
  }

  @Override
  public FilterStatus encodeHeaders(Http2Headers headers, boolean endStream) {
    if (preflightAnswer != null) {
      // Our own preflight answer passing through the encode path.
      headers.setAll(preflightAnswer);
      return FilterStatus.CONTINUE;
    }
    if (latchedOrigin == null) {
      return FilterStatus.CONTINUE;
    }
    headers.set(ALLOW_ORIGIN, latchedOrigin);
    if (allowCredentials()) {
      headers.set(ALLOW_CREDENTIALS, TRUE);
    }
    String expose = firstNonEmpty(Field.EXPOSE_HEADERS);
    if (!expose.isEmpty()) {
      headers.set(EXPOSE_HEADERS, expose);
    }
    return FilterStatus.CONTINUE;
  }

  private static List<CorsPolicyConfig> policiesOf(Route route) {
    List<Object> configs;
    if (route instanceof RouteEntry entry) {
      configs = entry.perFilterConfigs(CorsFilterFactory.NAME);
    } else {
      Object one = route.perFilterConfig(CorsFilterFactory.NAME);
      configs = one == null ? List.of() : List.of(one);
    }
    if (configs.isEmpty()) {
      return List.of();
    }
    List<CorsPolicyConfig> out = new ArrayList<>(configs.size());
    for (Object o : configs) {
      if (o instanceof CorsPolicyConfig c) {
        out.add(c);
      }
    }
    return out;
  }

  private boolean isOriginAllowed(CharSequence origin) {
    for (CorsPolicyConfig p : policies) {
      if (!p.allowOrigins().isEmpty()) {
        for (StringMatcher m : p.allowOrigins()) {
          // Envoy: a matcher that accepts "*" allows every origin.
          if (m.matches("*") || m.matches(origin)) {
            return true;
          }
        }
        return false;
      }
    }
    return false;
  }

  private enum Field {
    ALLOW_METHODS,
    ALLOW_HEADERS,
    EXPOSE_HEADERS,
    MAX_AGE
  }

  private String firstNonEmpty(Field f) {
    for (CorsPolicyConfig p : policies) {
      String v =
          switch (f) {
            case ALLOW_METHODS -> p.allowMethods();
            case ALLOW_HEADERS -> p.allowHeaders();
            case EXPOSE_HEADERS -> p.exposeHeaders();
            case MAX_AGE -> p.maxAge();
          };
      if (!v.isEmpty()) {
        return v;
      }
    }
    return "";
  }

  private boolean allowCredentials() {
    for (CorsPolicyConfig p : policies) {
      if (p.allowCredentials() != null) {
        return p.allowCredentials();
      }
    }
    return false;
  }

  private boolean allowPrivateNetworkAccess() {
    for (CorsPolicyConfig p : policies) {
      if (p.allowPrivateNetworkAccess() != null) {
        return p.allowPrivateNetworkAccess();
      }
    }
    return false;
  }

  private boolean forwardNotMatchingPreflights() {
    for (CorsPolicyConfig p : policies) {
      if (p.forwardNotMatchingPreflights() != null) {
        return p.forwardNotMatchingPreflights();
      }
    }
    return true;
  }

  private static CharSequence nullToEmpty(@Nullable CharSequence s) {
    return s == null ? "" : s;
  }
}
