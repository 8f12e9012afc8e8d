package dev.sluice.router;

import com.google.re2j.Pattern;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import java.util.Locale;

/**
 * The path part of a {@code RouteMatch}. Matching runs on the path without its query string and
 * fragment. {@link #matchedLength} returns how much of the path the match covers, which is the part
 * {@code prefix_rewrite} replaces (the prefix; the whole path for {@code path} and
 * {@code safe_regex}), or -1 when the path does not match.
 */
abstract sealed class PathMatcher {
  /**
   * @param path the {@code :path} value (with query), never null
   * @param end where the path ends (index of '?' or '#', or the length)
   */
  abstract int matchedLength(CharSequence path, int end);

  /** False only for the CONNECT matcher, which looks at the method instead of the path. */
  boolean needsPath() {
    return true;
  }

  static PathMatcher compile(RouteMatch m, String path) {
    boolean cs = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
    return switch (m.getPathSpecifierCase()) {
      case PREFIX -> new Prefix(m.getPrefix(), cs);
      case PATH -> new Exact(m.getPath(), cs);
      case SAFE_REGEX -> new Regex(Regexes.compile(m.getSafeRegex(), path + ".safe_regex"));
      case PATH_SEPARATED_PREFIX -> {
        String p = m.getPathSeparatedPrefix();
        if (p.isEmpty() || p.charAt(0) != '/' || p.contains("?") || p.contains("#")) {
          throw new ConfigException(path + ".path_separated_prefix", "must start with '/' and contain no '?' or '#'");
        }
        if (p.length() > 1 && p.endsWith("/")) {
          throw new ConfigException(path + ".path_separated_prefix", "must not end with '/'");
        }
        yield new SeparatedPrefix(p, cs);
      }
      case CONNECT_MATCHER -> Connect.INSTANCE;
      case PATH_MATCH_POLICY ->
          throw new ConfigException(path + ".path_match_policy", "path_match_policy extensions are not supported");
      case PATHSPECIFIER_NOT_SET -> throw new ConfigException(path, "path_specifier is required");
    };
  }

  private static final class Prefix extends PathMatcher {
    private final String prefix;
    private final boolean caseSensitive;

    Prefix(String prefix, boolean caseSensitive) {
      this.caseSensitive = caseSensitive;
      this.prefix = caseSensitive ? prefix : prefix.toLowerCase(Locale.ROOT);
    }

    @Override
    int matchedLength(CharSequence path, int end) {
      int n = prefix.length();
      return n <= end && StringMatcher.regionMatches(path, 0, prefix, !caseSensitive) ? n : -1;
    }
  }

  private static final class Exact extends PathMatcher {
    private final String exact;
    private final boolean caseSensitive;

    Exact(String exact, boolean caseSensitive) {
      this.caseSensitive = caseSensitive;
      this.exact = caseSensitive ? exact : exact.toLowerCase(Locale.ROOT);
    }

    @Override
    int matchedLength(CharSequence path, int end) {
      return end == exact.length() && StringMatcher.regionMatches(path, 0, exact, !caseSensitive) ? end : -1;
    }
  }

  /** {@code path_separated_prefix}: the prefix followed by nothing or by '/'. */
  private static final class SeparatedPrefix extends PathMatcher {
    private final String prefix;
    private final boolean caseSensitive;

    SeparatedPrefix(String prefix, boolean caseSensitive) {
      this.caseSensitive = caseSensitive;
      this.prefix = caseSensitive ? prefix : prefix.toLowerCase(Locale.ROOT);
    }

    @Override
    int matchedLength(CharSequence path, int end) {
      int n = prefix.length();
      if (n > end || (n < end && path.charAt(n) != '/')) {
        return -1;
      }
      return StringMatcher.regionMatches(path, 0, prefix, !caseSensitive) ? n : -1;
    }
  }

  /** {@code safe_regex}: RE2 full match of the path without query; {@code case_sensitive} does not apply. */
  private static final class Regex extends PathMatcher {
    private final Pattern pattern;

    Regex(Pattern pattern) {
      this.pattern = pattern;
    }

    @Override
    int matchedLength(CharSequence path, int end) {
      CharSequence p = end == path.length() ? path : path.subSequence(0, end);
      return pattern.matcher(p).matches() ? end : -1;
    }
  }

  /** {@code connect_matcher}: any CONNECT request, whatever its path (checked by the route match). */
  private static final class Connect extends PathMatcher {
    static final Connect INSTANCE = new Connect();

    @Override
    int matchedLength(CharSequence path, int end) {
      return 0;
    }

    @Override
    boolean needsPath() {
      return false;
    }
  }
}
