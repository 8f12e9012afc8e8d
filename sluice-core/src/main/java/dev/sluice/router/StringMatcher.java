package dev.sluice.router;

import com.google.re2j.Pattern;
import dev.sluice.api.config.ConfigException;
import java.util.Locale;

/**
 * A compiled {@code envoy.type.matcher.v3.StringMatcher}: exact, prefix, suffix, contains (each
 * optionally ASCII case-insensitive) or a full-match RE2 regex. Immutable; allocation-free except
 * for regex matching.
 */
public abstract sealed class StringMatcher {
  /** True when {@code value} matches. */
  public abstract boolean matches(CharSequence value);

  /**
   * Compiles a StringMatcher message.
   *
   * @param fieldPath the path of the message, for errors
   */
  public static StringMatcher compile(
      io.envoyproxy.envoy.type.matcher.v3.StringMatcher m, String fieldPath) {
    boolean ic = m.getIgnoreCase();
    return switch (m.getMatchPatternCase()) {
      case EXACT -> new Literal(Kind.EXACT, m.getExact(), ic);
      case PREFIX -> new Literal(Kind.PREFIX, nonEmpty(m.getPrefix(), fieldPath + ".prefix"), ic);
      case SUFFIX -> new Literal(Kind.SUFFIX, nonEmpty(m.getSuffix(), fieldPath + ".suffix"), ic);
      case CONTAINS ->
          new Literal(Kind.CONTAINS, nonEmpty(m.getContains(), fieldPath + ".contains"), ic);
      case SAFE_REGEX -> new Regex(Regexes.compile(m.getSafeRegex(), fieldPath + ".safe_regex"));
      case CUSTOM -> throw new ConfigException(fieldPath + ".custom", "custom string matchers are not supported");
      case MATCHPATTERN_NOT_SET -> throw new ConfigException(fieldPath, "match_pattern is required");
    };
  }

  /** An exact/prefix/suffix/contains matcher. */
  public static StringMatcher literal(Kind kind, String value, boolean ignoreCase) {
    return new Literal(kind, value, ignoreCase);
  }

  /** A full-match regex matcher. */
  public static StringMatcher regex(Pattern pattern) {
    return new Regex(pattern);
  }

  private static String nonEmpty(String s, String fieldPath) {
    if (s.isEmpty()) {
      throw new ConfigException(fieldPath, "value length must be at least 1 characters");
    }
    return s;
  }

  /** The literal comparisons. */
  public enum Kind {
    EXACT,
    PREFIX,
    SUFFIX,
    CONTAINS
  }

  private static final class Literal extends StringMatcher {
    private final Kind kind;
    private final String expected;
    private final boolean ignoreCase;

    Literal(Kind kind, String expected, boolean ignoreCase) {
      this.kind = kind;
      this.ignoreCase = ignoreCase;
      this.expected = ignoreCase ? expected.toLowerCase(Locale.ROOT) : expected;
    }

    @Override
    public boolean matches(CharSequence value) {
      int n = expected.length();
      int len = value.length();
      return switch (kind) {
        case EXACT -> len == n && regionMatches(value, 0, expected, ignoreCase);
        case PREFIX -> len >= n && regionMatches(value, 0, expected, ignoreCase);
        case SUFFIX -> len >= n && regionMatches(value, len - n, expected, ignoreCase);
        case CONTAINS -> {
          for (int i = 0; i + n <= len; i++) {
            if (regionMatches(value, i, expected, ignoreCase)) {
              yield true;
            }
          }
          yield false;
        }
      };
    }

    @Override
    public String toString() {
      return kind + "(" + expected + (ignoreCase ? ", ignore_case" : "") + ")";
    }
  }

  private static final class Regex extends StringMatcher {
    private final Pattern pattern;

    Regex(Pattern pattern) {
      this.pattern = pattern;
    }

    @Override
    public boolean matches(CharSequence value) {
      return pattern.matcher(value).matches();
    }

    @Override
    public String toString() {
      return "regex(" + pattern.pattern() + ")";
    }
  }

  /**
   * True when {@code value} holds {@code expected} at {@code offset}. {@code expected} is already
   * lower-case when {@code ignoreCase}; the comparison folds ASCII letters only (header values).
   */
  static boolean regionMatches(CharSequence value, int offset, String expected, boolean ignoreCase) {
    int n = expected.length();
    if (offset < 0 || offset + n > value.length()) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = value.charAt(offset + i);
      char e = expected.charAt(i);
      if (c != e && (!ignoreCase || toLowerAscii(c) != e)) {
        return false;
      }
    }
    return true;
  }

  static char toLowerAscii(char c) {
    return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
  }
}
