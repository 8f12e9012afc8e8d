package dev.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/**
 * Lower-cases HTTP/1 header names for the stream model without copying the common ones: a name
 * the HTTP/1 decoder produced ({@code Content-Type}, {@code content-length}, ...) maps to one
 * shared cached {@link AsciiString}. Copying every name twice (to an {@code AsciiString}, then to
 * lower case) was about a tenth of the bytes a proxied HTTP/1.1 request allocated.
 */
public final class HeaderNames {
  private static final int MASK = 511;
  /** Open addressing on {@link #hash}, which ignores ASCII case; at most a quarter full. */
  private static final AsciiString[] TABLE = new AsciiString[MASK + 1];

  static {
    List<AsciiString> names = new ArrayList<>();
    addConstants(HttpHeaderNames.class, names);
    addConstants(Headers.class, names);
    for (String n : new String[] {"x-powered-by", "x-envoy-peer-metadata", "x-envoy-peer-metadata-id",
        "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "b3",
        "traceparent", "tracestate", "x-forwarded-host", "x-forwarded-port", "x-real-ip",
        "x-envoy-attempt-count", "x-content-type-options", "x-frame-options", "x-xss-protection",
        "strict-transport-security", "alt-svc", "x-amzn-trace-id", "x-cloud-trace-context"}) {
      names.add(AsciiString.cached(n));
    }
    for (AsciiString name : names) {
      if (name.isEmpty() || name.byteAt(0) == ':' || !name.equals(name.toLowerCase())) {
        continue;
      }
      int i = hash(name) & MASK;
      while (TABLE[i] != null && !TABLE[i].contentEquals(name)) {
        i = (i + 1) & MASK;
      }
      TABLE[i] = name;
    }
  }

  private HeaderNames() {}

  /** {@code name} in lower case: a shared constant for a known name, else a lower-cased copy. */
  public static AsciiString lowerCase(CharSequence name) {
    int i = hash(name) & MASK;
    AsciiString candidate;
    while ((candidate = TABLE[i]) != null) {
      if (candidate.length() == name.length() && AsciiString.contentEqualsIgnoreCase(candidate, name)) {
        return candidate;
      }
      i = (i + 1) & MASK;
    }
    return AsciiString.of(name).toLowerCase();
  }

  /**
   * The name in {@code bytes[start, start + length)} (as an HTTP/1 parser sees it) in lower case:
   * the shared constant for a known name, with no allocation; else one lower-cased copy.
   */
  public static AsciiString lowerCase(byte[] bytes, int start, int length) {
    int h = 0;
    for (int k = start; k < start + length; k++) {
      h = 31 * h + lower(bytes[k] & 0xFF);
    }
    int i = h & MASK;
    AsciiString candidate;
    while ((candidate = TABLE[i]) != null) {
      if (candidate.length() == length && equalsLowerCase(candidate, bytes, start)) {
        return candidate;
      }
      i = (i + 1) & MASK;
    }
    byte[] copy = new byte[length];
    for (int k = 0; k < length; k++) {
      copy[k] = (byte) lower(bytes[start + k] & 0xFF);
    }
    return new AsciiString(copy, false);
  }

  private static boolean equalsLowerCase(AsciiString lowerName, byte[] bytes, int start) {
    for (int k = 0; k < lowerName.length(); k++) {
      if (lowerName.byteAt(k) != lower(bytes[start + k] & 0xFF)) {
        return false;
      }
    }
    return true;
  }

  /** A hash that ignores ASCII case, the same for a name's bytes and its characters. */
  private static int hash(CharSequence name) {
    int h = 0;
    for (int k = 0; k < name.length(); k++) {
      h = 31 * h + lower(name.charAt(k));
    }
    return h;
  }

  private static int lower(int c) {
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
  }

  private static void addConstants(Class<?> holder, List<AsciiString> out) {
    for (Field f : holder.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == AsciiString.class) {
        try {
          out.add((AsciiString) f.get(null));
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }
}
