package dev.sluice.stats;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * An {@code envoy.type.matcher.v3.StringMatcher} applied to stat names: exact, prefix, suffix,
 * contains (each optionally ignoring ASCII case) or {@code safe_regex} (RE2, whole-name match).
 */
final class StatNameMatcher {
  private StatNameMatcher() {}

  /** Field paths in errors are relative to the matcher. */
  static Predicate<String> compile(StringMatcher m) {
    boolean ic = m.getIgnoreCase();
    return switch (m.getMatchPatternCase()) {
      case EXACT -> {
        String v = m.getExact();
        yield ic ? s -> s.equalsIgnoreCase(v) : s -> s.equals(v);
      }
      case PREFIX -> {
        String v = m.getPrefix();
        yield ic ? s -> s.regionMatches(true, 0, v, 0, v.length()) : s -> s.startsWith(v);
      }
      case SUFFIX -> {
        String v = m.getSuffix();
        yield ic
            ? s -> s.length() >= v.length()
                && s.regionMatches(true, s.length() - v.length(), v, 0, v.length())
            : s -> s.endsWith(v);
      }
      case CONTAINS -> {
        String v = m.getContains();
        String lower = v.toLowerCase(Locale.ROOT);
        yield ic ? s -> s.toLowerCase(Locale.ROOT).contains(lower) : s -> s.contains(v);
      }
      case SAFE_REGEX -> {
        try {
          Pattern p = Pattern.compile(m.getSafeRegex().getRegex());
          yield s -> p.matches(s);
        } catch (PatternSyntaxException e) {
          throw new ConfigException("safe_regex.regex", "invalid regex: " + e.getMessage());
        }
      }
      case CUSTOM -> throw new ConfigException("custom", "custom string matchers are not supported");
      case MATCHPATTERN_NOT_SET -> throw new ConfigException("", "a match pattern is required");
    };
  }
}
