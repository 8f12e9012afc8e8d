package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code RedirectAction}, and Envoy's rule for building the {@code Location}: scheme from
 * {@code scheme_redirect}/{@code https_redirect} or the request; host from {@code host_redirect} or
 * the request's authority, whose port is dropped when a {@code port_redirect} is given or when the
 * scheme changes away from the port's default ({@code :80} for http, {@code :443} for https); path
 * from {@code path_redirect} (keeping the request's query unless the new path has one) or the
 * request path after {@code prefix_rewrite}/{@code regex_rewrite}; {@code strip_query} drops the
 * query unless {@code path_redirect} brought its own.
 */
public final class Redirect {
  private final @Nullable String scheme;
  private final @Nullable String host;
  /** {@code ":<port>"} or empty. */
  private final String port;
  private final @Nullable String pathRedirect;
  private final boolean pathRedirectHasQuery;
  private final @Nullable String prefixRewrite;
  private final @Nullable RegexSubstitution regexRewrite;
  private final boolean stripQuery;
  private final int status;

  private Redirect(
      @Nullable String scheme,
      @Nullable String host,
      String port,
      @Nullable String pathRedirect,
      @Nullable String prefixRewrite,
      @Nullable RegexSubstitution regexRewrite,
      boolean stripQuery,
      int status) {
    this.scheme = scheme;
    this.host = host;
    this.port = port;
    this.pathRedirect = pathRedirect;
    this.pathRedirectHasQuery = pathRedirect != null && pathRedirect.indexOf('?') >= 0;
    this.prefixRewrite = prefixRewrite;
    this.regexRewrite = regexRewrite;
    this.stripQuery = stripQuery;
    this.status = status;
  }

  /** The redirect Envoy answers with when a virtual host's {@code require_tls} is not met. */
  static final Redirect HTTPS = new Redirect("https", null, "", null, null, null, false, 301);

  static Redirect compile(RedirectAction r, String fieldPath) {
    String scheme =
        switch (r.getSchemeRewriteSpecifierCase()) {
          case HTTPS_REDIRECT -> r.getHttpsRedirect() ? "https" : null;
          case SCHEME_REDIRECT ->
              r.getSchemeRedirect().isEmpty() ? null : r.getSchemeRedirect().toLowerCase(Locale.ROOT);
          case SCHEMEREWRITESPECIFIER_NOT_SET -> null;
        };
    String pathRedirect = null;
    String prefixRewrite = null;
    RegexSubstitution regexRewrite = null;
    switch (r.getPathRewriteSpecifierCase()) {
      case PATH_REDIRECT -> pathRedirect = r.getPathRedirect();
      case PREFIX_REWRITE -> prefixRewrite = r.getPrefixRewrite();
      case REGEX_REWRITE -> regexRewrite = RegexSubstitution.compile(r.getRegexRewrite(), fieldPath + ".regex_rewrite");
      case PATHREWRITESPECIFIER_NOT_SET -> {}
    }
    if (r.getPortRedirect() > 65535) {
      throw new ConfigException(fieldPath + ".port_redirect", "value must be at most 65535");
    }
    int status =
        switch (r.getResponseCode()) {
          case MOVED_PERMANENTLY -> 301;
          case FOUND -> 302;
          case SEE_OTHER -> 303;
          case TEMPORARY_REDIRECT -> 307;
          case PERMANENT_REDIRECT -> 308;
          case UNRECOGNIZED -> throw new ConfigException(fieldPath + ".response_code", "unknown response code");
        };
    return new Redirect(
        scheme,
        r.getHostRedirect().isEmpty() ? null : r.getHostRedirect(),
        r.getPortRedirect() == 0 ? "" : ":" + r.getPortRedirect(),
        pathRedirect == null || pathRedirect.isEmpty() ? null : pathRedirect,
        prefixRewrite,
        regexRewrite,
        r.getStripQuery(),
        status);
  }

  /** The redirect status: 301 unless {@code response_code} says otherwise. */
  public int status() {
    return status;
  }

  /**
   * @param matchedLength how much of the path the route matched (what {@code prefix_rewrite} replaces)
   */
  String location(Http2Headers headers, int matchedLength) {
    CharSequence path = headers.path();
    String requestPath = path == null ? "" : path.toString();
    if (prefixRewrite != null && matchedLength >= 0 && matchedLength <= requestPath.length()) {
      requestPath = prefixRewrite + requestPath.substring(matchedLength);
    } else if (regexRewrite != null) {
      int end = RequestViews.pathEnd(requestPath);
      requestPath = regexRewrite.replaceAll(requestPath.substring(0, end)) + requestPath.substring(end);
    }
    String finalPath;
    if (pathRedirect != null) {
      if (pathRedirectHasQuery) {
        finalPath = pathRedirect;
      } else {
        int q = requestPath.indexOf('?');
        finalPath = q >= 0 ? pathRedirect + requestPath.substring(q) : pathRedirect;
      }
    } else {
      finalPath = requestPath;
    }
    if (!pathRedirectHasQuery && stripQuery) {
      int q = finalPath.indexOf('?');
      if (q >= 0) {
        finalPath = finalPath.substring(0, q);
      }
    }
    return newUri(headers, scheme, host, port, finalPath);
  }

  /** Envoy's newUri for a direct response without redirect config: the request's own URL. */
  static String requestUri(Http2Headers headers) {
    CharSequence path = headers.path();
    return newUri(headers, null, null, "", path == null ? "" : path.toString());
  }

  private static String newUri(
      Http2Headers headers, @Nullable String newScheme, @Nullable String newHost, String newPort, String path) {
    CharSequence reqScheme = headers.scheme();
    String requestScheme = reqScheme == null ? "" : reqScheme.toString();
    String finalScheme = newScheme != null ? newScheme : requestScheme;
    String finalHost = newHost != null ? newHost : requestHost(headers, requestScheme, finalScheme, newPort);
    if (!path.startsWith("/")) {
      path = "/" + path;
    }
    return finalScheme + "://" + finalHost + newPort + path;
  }

  /** The request authority, without its port when that port is replaced or was the old scheme's default. */
  private static String requestHost(
      Http2Headers headers, String requestScheme, String newScheme, String newPort) {
    CharSequence authority = headers.authority();
    if (authority == null || authority.length() == 0) {
      return "";
    }
    String host = authority.toString();
    int portStart;
    if (host.charAt(0) == '[') {
      int close = host.lastIndexOf("]:");
      portStart = close < 0 ? -1 : close + 1;
    } else {
      portStart = host.lastIndexOf(':');
    }
    if (portStart < 0) {
      return host;
    }
    String requestPort = host.substring(portStart);
    boolean removePort = !newPort.isEmpty();
    if (!newScheme.equals(requestScheme)) {
      removePort |= requestScheme.equals("https") && requestPort.equals(":443");
      removePort |= requestScheme.equals("http") && requestPort.equals(":80");
    }
    return removePort ? host.substring(0, portStart) : host;
  }
}
