package dev.sluice.http;

import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.stream.StreamInfo;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.HeadersWithUnderscoresAction;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * What Envoy's connection manager does to request headers before the filters see them: limits,
 * underscores, path normalisation, {@code x-forwarded-for}/{@code -proto}, {@code x-envoy-internal},
 * header sanitising and {@code x-request-id}.
 */
final class RequestHeaderProcessor {
  private RequestHeaderProcessor() {}

  /** A request the connection manager refuses, with Envoy's status and details. */
  record Rejection(int status, String body, String details, @Nullable String location) {
    Rejection(int status, String body, String details) {
      this(status, body, details, null);
    }

    /** Envoy rejects these in its codec: a protocol error, and HTTP/1 closes the connection. */
    boolean codecError() {
      return details.equals("unexpected_underscore");
    }

    /** Sets {@code location} on the reply (Envoy's path normalisation redirect), or null. */
    java.util.function.@Nullable Consumer<Http2Headers> headerModifier() {
      String l = location;
      return l == null ? null : h -> h.set(Headers.LOCATION, l);
    }
  }

  /**
   * Mutates {@code headers} in place.
   *
   * @return null to go on, or the local reply to send
   */
  static @Nullable Rejection process(
      HttpConnectionManagerConfig config,
      DownstreamConnection connection,
      Http2Headers headers,
      boolean secure,
      StreamInfo info) {
    HttpConnectionManagerStats stats = config.stats();
    if (headers.size() > config.maxHeadersCount()) {
      return new Rejection(431, "", "too_many_headers");
    }
    CharSequence method = headers.method();
    CharSequence path = headers.path();
    if (method == null) {
      return new Rejection(400, "", "missing_required_header");
    }
    boolean connect = AsciiString.contentEquals(method, Headers.CONNECT);
    if (headers.authority() == null || headers.authority().length() == 0) {
      if (!connect && config.defaultHostForHttp10().isEmpty()) {
        // HTTP/1.1 requires Host (RFC 9112 3.2); Envoy answers 400 when :authority is missing.
        return new Rejection(400, "", "missing_host_header");
      }
      if (!config.defaultHostForHttp10().isEmpty()) {
        headers.authority(config.defaultHostForHttp10());
      }
    }
    if (!connect) {
      if (path == null || path.length() == 0) {
        return new Rejection(400, "", "missing_path_rejected");
      }
      if (path.charAt(0) != '/' && !(path.length() == 1 && path.charAt(0) == '*')) {
        stats.downstreamRqNonRelativePath.inc();
        return new Rejection(404, "", "absolute_path_rejected");
      }
    }

    if (config.headersWithUnderscoresAction() != HeadersWithUnderscoresAction.ALLOW) {
      Rejection r = handleUnderscores(config, headers);
      if (r != null) {
        return r;
      }
    }

    if (!connect && path != null && path.charAt(0) == '/') {
      PathNormalizer.Result normalized = PathNormalizer.normalize(config, path.toString());
      if (normalized.rejected()) {
        stats.downstreamRqFailedPathNormalization.inc();
        return new Rejection(400, "", "path_normalization_failed");
      }
      if (normalized.redirect()) {
        stats.downstreamRqRedirectedWithNormalizedPath.inc();
        headers.path(normalized.path());
        return new Rejection(307, "", "path_with_escaped_slashes_redirect", normalized.path());
      }
      if (normalized.path() != null) {
        headers.path(normalized.path());
      }
    }

    if (config.stripAnyHostPort() || config.stripMatchingHostPort()) {
      stripPort(config, connection, headers);
    }

    // x-forwarded-for and the trusted remote address (Envoy's use_remote_address, xff_num_trusted_hops).
    InetSocketAddress remote = connection.remoteAddress;
    boolean internal;
    if (config.useRemoteAddress()) {
      internal = isInternal(remote.getAddress());
      if (!config.skipXffAppend()) {
        String addr = remote.getAddress().getHostAddress();
        CharSequence xff = headers.get(Headers.X_FORWARDED_FOR);
        headers.set(Headers.X_FORWARDED_FOR, xff == null || xff.length() == 0 ? addr : xff + "," + addr);
      }
      headers.set(Headers.X_FORWARDED_PROTO, secure ? Headers.HTTPS : Headers.HTTP);
    } else {
      InetAddress fromXff = trustedXffAddress(headers.get(Headers.X_FORWARDED_FOR), config.xffNumTrustedHops());
      if (fromXff != null) {
        info.downstreamRemoteAddress = new InetSocketAddress(fromXff, 0);
      }
      internal = fromXff != null ? isInternal(fromXff) : headers.contains(Headers.X_ENVOY_INTERNAL);
      if (!headers.contains(Headers.X_FORWARDED_PROTO)) {
        headers.set(Headers.X_FORWARDED_PROTO, secure ? Headers.HTTPS : Headers.HTTP);
      }
    }
    if (config.useRemoteAddress()) {
      if (internal) {
        headers.set(Headers.X_ENVOY_INTERNAL, Headers.TRUE);
      } else {
        headers.remove(Headers.X_ENVOY_INTERNAL);
        for (AsciiString h : Headers.ENVOY_CONTROL_HEADERS) {
          headers.remove(h);
        }
        headers.set(Headers.X_ENVOY_EXTERNAL_ADDRESS, remote.getAddress().getHostAddress());
      }
    }

    // x-request-id: kept from internal callers (and from external ones when preserved), else made.
    CharSequence rid = headers.get(Headers.X_REQUEST_ID);
    boolean keep = rid != null && rid.length() > 0 && (internal || config.preserveExternalRequestId() || !config.useRemoteAddress());
    if (!keep && config.generateRequestId()) {
      rid = randomUuid();
      headers.set(Headers.X_REQUEST_ID, rid);
    }
    info.requestId = rid == null ? null : rid.toString();

    if (!config.via().isEmpty()) {
      CharSequence via = headers.get(Headers.VIA);
      headers.set(Headers.VIA, via == null ? config.via() : via + ", " + config.via());
    }
    return null;
  }

  private static @Nullable Rejection handleUnderscores(HttpConnectionManagerConfig config, Http2Headers headers) {
    // Http2Headers iterators do not support remove(): collect the names, then drop them.
    java.util.List<CharSequence> dropped = null;
    Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iterator();
    while (it.hasNext()) {
      CharSequence name = it.next().getKey();
      if (name.length() > 0 && name.charAt(0) != ':' && AsciiString.indexOf(name, '_', 0) >= 0) {
        if (config.headersWithUnderscoresAction() == HeadersWithUnderscoresAction.REJECT_REQUEST) {
          config.stats().requestsRejectedWithUnderscoresInHeaders.inc();
          return new Rejection(400, "", "unexpected_underscore");
        }
        config.stats().droppedHeadersWithUnderscores.inc();
        if (dropped == null) {
          dropped = new java.util.ArrayList<>(2);
        }
        dropped.add(name);
      }
    }
    if (dropped != null) {
      for (CharSequence name : dropped) {
        headers.remove(name);
      }
    }
    return null;
  }

  private static void stripPort(HttpConnectionManagerConfig config, DownstreamConnection connection, Http2Headers headers) {
    CharSequence authority = headers.authority();
    if (authority == null) {
      return;
    }
    String a = authority.toString();
    int colon = a.lastIndexOf(':');
    int bracket = a.lastIndexOf(']');
    if (colon < 0 || colon < bracket) {
      return;
    }
    String port = a.substring(colon + 1);
    if (config.stripAnyHostPort() || port.equals(Integer.toString(connection.localAddress.getPort()))) {
      headers.authority(a.substring(0, colon));
    }
  }

  /**
   * Envoy's rule: with {@code xff_num_trusted_hops} N, the client is the (N+1)th address from the
   * right of x-forwarded-for; with N = 0 the rightmost one.
   */
  static @Nullable InetAddress trustedXffAddress(@Nullable CharSequence xff, int trustedHops) {
    if (xff == null || xff.length() == 0) {
      return null;
    }
    String[] parts = xff.toString().split(",");
    int idx = parts.length - 1 - trustedHops;
    if (idx < 0) {
      return null;
    }
    String candidate = parts[idx].trim();
    if (!looksLikeIp(candidate)) {
      return null;
    }
    try {
      return InetAddress.ofLiteral(candidate);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static boolean looksLikeIp(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(Character.digit(c, 16) >= 0 || c == '.' || c == ':')) {
        return false;
      }
    }
    return true;
  }

  /** Envoy's internal addresses: RFC 1918, loopback, and IPv6 unique-local (fc00::/7). */
  static boolean isInternal(InetAddress a) {
    if (a.isLoopbackAddress() || a.isSiteLocalAddress()) {
      return true;
    }
    if (a instanceof Inet6Address) {
      byte b = a.getAddress()[0];
      return (b & 0xfe) == 0xfc;
    }
    return a instanceof Inet4Address && a.isSiteLocalAddress();
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** A random (version 4) UUID as Envoy's request id, without java.util.UUID's SecureRandom cost. */
  static AsciiString randomUuid() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    byte[] out = new byte[36];
    int p = 0;
    for (int i = 15; i >= 0; i--) {
      if (i == 7 || i == 3) {
        out[p++] = '-';
      }
      out[p++] = (byte) HEX[(int) (hi >>> (i * 4)) & 0xF];
    }
    for (int i = 15; i >= 0; i--) {
      if (i == 15 || i == 11) {
        out[p++] = '-';
      }
      out[p++] = (byte) HEX[(int) (lo >>> (i * 4)) & 0xF];
    }
    return new AsciiString(out, false);
  }
}
