package dev.sluice.router;

import dev.sluice.lb.XxHash64;

import com.google.common.net.InetAddresses;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A route's {@code hash_policy} list, producing the 64-bit key for ring-hash and Maglev as Envoy
 * does: each policy that yields a value folds it in as {@code rotl(hash, 1) ^ value}; a
 * {@code terminal} policy that produced a hash ends the evaluation. Values are XXH64 (seed 0) of:
 * the header's values (sorted, chained as seeds, after an optional regex rewrite), an existing
 * cookie's value, the downstream source IP as text, or the first value of a query parameter.
 * Generating a cookie when it is absent and a {@code ttl} is set is not done yet (no hash then);
 * {@code filter_state} policies never yield a value.
 */
public final class HashPolicy {
  private sealed interface Method permits Header, Cookie, SourceIp, QueryParameter, Never {}

  private record Header(AsciiString name, @Nullable RegexSubstitution rewrite) implements Method {}

  private record Cookie(String name) implements Method {}

  private record SourceIp() implements Method {}

  private record QueryParameter(String name) implements Method {}

  private record Never() implements Method {}

  private final Method[] methods;
  private final boolean[] terminal;

  private HashPolicy(Method[] methods, boolean[] terminal) {
    this.methods = methods;
    this.terminal = terminal;
  }

  /** Null when the list is empty. */
  static @Nullable HashPolicy compile(List<RouteAction.HashPolicy> policies, String fieldPath) {
    if (policies.isEmpty()) {
      return null;
    }
    Method[] methods = new Method[policies.size()];
    boolean[] terminal = new boolean[policies.size()];
    for (int i = 0; i < methods.length; i++) {
      RouteAction.HashPolicy p = policies.get(i);
      String path = fieldPath + "[" + i + "]";
      terminal[i] = p.getTerminal();
      methods[i] =
          switch (p.getPolicySpecifierCase()) {
            case HEADER -> {
              String name = p.getHeader().getHeaderName();
              if (name.isEmpty()) {
                throw new ConfigException(path + ".header.header_name", "value length must be at least 1 characters");
              }
              yield new Header(
                  AsciiString.of(name.toLowerCase(Locale.ROOT)),
                  p.getHeader().hasRegexRewrite()
                      ? RegexSubstitution.compile(p.getHeader().getRegexRewrite(), path + ".header.regex_rewrite")
                      : null);
            }
            case COOKIE -> {
              if (p.getCookie().getName().isEmpty()) {
                throw new ConfigException(path + ".cookie.name", "value length must be at least 1 characters");
              }
              yield new Cookie(p.getCookie().getName());
            }
            case CONNECTION_PROPERTIES ->
                p.getConnectionProperties().getSourceIp() ? new SourceIp() : new Never();
            case QUERY_PARAMETER -> {
              if (p.getQueryParameter().getName().isEmpty()) {
                throw new ConfigException(path + ".query_parameter.name", "value length must be at least 1 characters");
              }
              yield new QueryParameter(p.getQueryParameter().getName());
            }
            case FILTER_STATE -> new Never();
            case POLICYSPECIFIER_NOT_SET -> throw new ConfigException(path, "policy_specifier is required");
          };
    }
    return new HashPolicy(methods, terminal);
  }

  /**
   * Computes the hash into {@code out[0]}.
   *
   * @param remote the downstream remote address, or null when unknown
   * @return false when no policy produced a value (the load balancer then picks at random)
   */
  public boolean computeHash(Http2Headers headers, @Nullable InetSocketAddress remote, long[] out) {
    boolean have = false;
    long hash = 0;
    for (int i = 0; i < methods.length; i++) {
      long value;
      boolean produced;
      switch (methods[i]) {
        case Header h -> {
          produced = headers.contains(h.name);
          value = produced ? hashHeader(headers, h) : 0;
        }
        case Cookie c -> {
          value = 0;
          produced = false;
          for (Iterator<CharSequence> it = headers.valueIterator(HttpHeaderNames.COOKIE); it.hasNext(); ) {
            CharSequence cookies = it.next();
            long range = cookieValueRange(cookies, c.name);
            if (range >= 0) {
              value = XxHash64.hashLatin1(cookies, (int) (range >>> 32), (int) range, 0);
              produced = true;
              break;
            }
          }
        }
        case SourceIp s -> {
          produced = remote != null && remote.getAddress() != null;
          value = produced ? XxHash64.hash(InetAddresses.toAddrString(remote.getAddress()), 0) : 0;
        }
        case QueryParameter q -> {
          CharSequence path = headers.path();
          CharSequence v = path == null ? null : RequestViews.queryParameter(path, q.name);
          produced = v != null;
          value = produced ? XxHash64.hashLatin1(v, 0) : 0;
        }
        case Never n -> {
          produced = false;
          value = 0;
        }
      }
      if (produced) {
        hash = (have ? Long.rotateLeft(hash, 1) : 0) ^ value;
        have = true;
      }
      if (terminal[i] && have) {
        break;
      }
    }
    out[0] = hash;
    return have;
  }

  private static long hashHeader(Http2Headers headers, Header h) {
    List<? extends CharSequence> values = headers.getAll(h.name);
    if (values.size() == 1 && h.rewrite == null) {
      return XxHash64.hashLatin1(values.get(0), 0);
    }
    List<String> sorted = new ArrayList<>(values.size());
    for (CharSequence v : values) {
      sorted.add(h.rewrite == null ? v.toString() : h.rewrite.replaceAll(v));
    }
    // Same hash whatever the order of the header's values.
    sorted.sort(null);
    long seed = 0;
    for (String v : sorted) {
      seed = XxHash64.hashLatin1(v, seed);
    }
    return seed;
  }

  /**
   * Finds {@code name=value} in one Cookie header ("a=b; c=d") and returns the value's range
   * {@code start << 32 | end} with surrounding double quotes removed (Envoy's parseCookieValue), or -1.
   */
  private static long cookieValueRange(CharSequence cookies, String name) {
    int n = cookies.length();
    int i = 0;
    while (i < n) {
      while (i < n && cookies.charAt(i) == ' ') {
        i++;
      }
      int end = i;
      while (end < n && cookies.charAt(end) != ';') {
        end++;
      }
      int eq = i;
      while (eq < end && cookies.charAt(eq) != '=') {
        eq++;
      }
      if (eq < end && eq - i == name.length() && StringMatcher.regionMatches(cookies, i, name, false)) {
        int vs = eq + 1;
        int ve = end;
        if (ve - vs >= 2 && cookies.charAt(vs) == '"' && cookies.charAt(ve - 1) == '"') {
          vs++;
          ve--;
        }
        return ((long) vs << 32) | ve;
      }
      i = end + 1;
    }
    return -1;
  }
}
