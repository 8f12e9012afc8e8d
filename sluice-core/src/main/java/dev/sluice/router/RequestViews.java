package dev.sluice.router;

import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.Iterator;
import org.jspecify.annotations.Nullable;

/** Read-only helpers over request headers shared by the matchers, the hash policy and rewrites. */
final class RequestViews {
  private RequestViews() {}

  /**
   * All values of a header joined with ',' (Envoy's getAllOfHeaderAsString), or null when absent.
   * A single value is returned as is, without copying.
   */
  static @Nullable CharSequence joinedValue(Http2Headers headers, AsciiString name) {
    Iterator<CharSequence> it = headers.valueIterator(name);
    if (!it.hasNext()) {
      return null;
    }
    CharSequence first = it.next();
    if (!it.hasNext()) {
      return first;
    }
    // Netty's value iterator runs newest first; getAll keeps the order the values arrived in.
    StringBuilder sb = new StringBuilder();
    for (CharSequence v : headers.getAll(name)) {
      if (!sb.isEmpty()) {
        sb.append(',');
      }
      sb.append(v);
    }
    return sb;
  }

  /** Index where the path ends and the query or fragment starts (Envoy's removeQueryAndFragment). */
  static int pathEnd(CharSequence path) {
    int n = path.length();
    for (int i = 0; i < n; i++) {
      char c = path.charAt(i);
      if (c == '?' || c == '#') {
        return i;
      }
    }
    return n;
  }

  /**
   * The value of the first query parameter called {@code name} in {@code path}, "" for a key without
   * '=', or null when absent. Keys and values are compared undecoded, as Envoy's route matching does.
   */
  static @Nullable CharSequence queryParameter(CharSequence path, String name) {
    int n = path.length();
    int q = -1;
    for (int i = 0; i < n; i++) {
      char c = path.charAt(i);
      if (c == '#') {
        return null;
      }
      if (c == '?') {
        q = i + 1;
        break;
      }
    }
    if (q < 0) {
      return null;
    }
    int end = n;
    for (int i = q; i < n; i++) {
      if (path.charAt(i) == '#') {
        end = i;
        break;
      }
    }
    int start = q;
    while (start <= end) {
      int amp = start;
      while (amp < end && path.charAt(amp) != '&') {
        amp++;
      }
      int eq = start;
      while (eq < amp && path.charAt(eq) != '=') {
        eq++;
      }
      if (eq - start == name.length() && StringMatcher.regionMatches(path, start, name, false)) {
        return eq == amp ? "" : path.subSequence(eq + 1, amp);
      }
      start = amp + 1;
    }
    return null;
  }

  /** Index of the ':' that starts the port in an authority (IPv6-aware), or -1 (Envoy's getPortStart). */
  static int portStart(CharSequence host) {
    int colon = -1;
    int bracket = -1;
    for (int i = host.length() - 1; i >= 0; i--) {
      char c = host.charAt(i);
      if (c == ':' && colon < 0) {
        colon = i;
      } else if (c == ']' && bracket < 0) {
        bracket = i;
      }
    }
    if (colon < 0 || (bracket >= 0 && bracket > colon)) {
      return -1;
    }
    return colon;
  }
}
