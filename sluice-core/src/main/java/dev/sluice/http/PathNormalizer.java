package dev.sluice.http;

import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's request path normalisation, applied to the path part only (the query is kept as is):
 * escaped slashes ({@code %2F}, {@code %5C}) per {@code path_with_escaped_slashes_action}, then
 * {@code normalize_path} (RFC 3986 section 6.2.2: decode percent-encoded unreserved characters,
 * upper-case the other escapes, backslash to slash, remove dot segments per section 5.2.4), then
 * {@code merge_slashes}.
 */
final class PathNormalizer {
  private PathNormalizer() {}

  /** @param path the new path, or null when unchanged */
  record Result(@Nullable String path, boolean rejected, boolean redirect) {
    static final Result UNCHANGED = new Result(null, false, false);
    static final Result REJECTED = new Result(null, true, false);
  }

  static Result normalize(HttpConnectionManagerConfig config, String full) {
    PathWithEscapedSlashesAction escaped = config.pathWithEscapedSlashesAction();
    boolean handleEscaped = escaped != PathWithEscapedSlashesAction.KEEP_UNCHANGED
        && escaped != PathWithEscapedSlashesAction.IMPLEMENTATION_SPECIFIC_DEFAULT
        && escaped != PathWithEscapedSlashesAction.UNRECOGNIZED;
    if (!config.normalizePath() && !config.mergeSlashes() && !handleEscaped) {
      return Result.UNCHANGED;
    }
    int q = full.indexOf('?');
    String path = q < 0 ? full : full.substring(0, q);
    String query = q < 0 ? "" : full.substring(q);
    String p = path;
    boolean redirect = false;
    if (handleEscaped && containsEscapedSlash(p)) {
      switch (escaped) {
        case REJECT_REQUEST -> {
          return Result.REJECTED;
        }
        case UNESCAPE_AND_REDIRECT -> {
          p = unescapeSlashes(p);
          redirect = true;
        }
        case UNESCAPE_AND_FORWARD -> p = unescapeSlashes(p);
        default -> {}
      }
    }
    if (config.normalizePath()) {
      String n = normalizeRfc3986(p);
      if (n == null) {
        return Result.REJECTED;
      }
      p = n;
    }
    if (config.mergeSlashes()) {
      p = mergeSlashes(p);
    }
    if (p.equals(path)) {
      return Result.UNCHANGED;
    }
    return new Result(p + query, false, redirect);
  }

  private static boolean containsEscapedSlash(String p) {
    for (int i = 0; i + 2 < p.length(); i++) {
      if (p.charAt(i) == '%') {
        char a = p.charAt(i + 1);
        char b = Character.toUpperCase(p.charAt(i + 2));
        if ((a == '2' && b == 'F') || (a == '5' && b == 'C')) {
          return true;
        }
      }
    }
    return false;
  }

  private static String unescapeSlashes(String p) {
    StringBuilder sb = new StringBuilder(p.length());
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c == '%' && i + 2 < p.length()) {
        char a = p.charAt(i + 1);
        char b = Character.toUpperCase(p.charAt(i + 2));
        if (a == '2' && b == 'F') {
          sb.append('/');
          i += 2;
          continue;
        }
        if (a == '5' && b == 'C') {
          sb.append('\\');
          i += 2;
          continue;
        }
      }
      sb.append(c);
    }
    return sb.toString();
  }

  /** Returns the normalised path, or null when it is invalid (bad escape, climbs above root). */
  static @Nullable String normalizeRfc3986(String p) {
    StringBuilder decoded = new StringBuilder(p.length());
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c == '%') {
        if (i + 2 >= p.length()) {
          return null;
        }
        int hi = Character.digit(p.charAt(i + 1), 16);
        int lo = Character.digit(p.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        char d = (char) (hi * 16 + lo);
        if (isUnreserved(d)) {
          decoded.append(d);
        } else {
          decoded.append('%').append(Character.toUpperCase(p.charAt(i + 1))).append(Character.toUpperCase(p.charAt(i + 2)));
        }
        i += 2;
      } else if (c == '\\') {
        decoded.append('/');
      } else {
        decoded.append(c);
      }
    }
    return removeDotSegments(decoded.toString());
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  /** RFC 3986 5.2.4 over an absolute path; segments above the root are dropped (as Envoy/Chromium). */
  static String removeDotSegments(String in) {
    String[] segs = in.split("/", -1);
    java.util.ArrayDeque<String> out = new java.util.ArrayDeque<>();
    for (int i = 1; i < segs.length; i++) {
      String s = segs[i];
      boolean last = i == segs.length - 1;
      if (s.equals(".")) {
        if (last) {
          out.addLast("");
        }
      } else if (s.equals("..")) {
        out.pollLast();
        if (last) {
          out.addLast("");
        }
      } else {
        out.addLast(s);
      }
    }
    StringBuilder sb = new StringBuilder(in.length());
    for (String s : out) {
      sb.append('/').append(s);
    }
    return sb.isEmpty() ? "/" : sb.toString();
  }

  static String mergeSlashes(String p) {
    if (!p.contains("//")) {
      return p;
    }
    StringBuilder sb = new StringBuilder(p.length());
    char prev = 0;
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      if (c == '/' && prev == '/') {
        continue;
      }
      sb.append(c);
      prev = c;
    }
    return sb.toString();
  }
}
