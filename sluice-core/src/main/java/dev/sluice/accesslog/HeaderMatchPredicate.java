package dev.sluice.accesslog;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code envoy.config.route.v3.HeaderMatcher} for the access log {@code header_filter},
 * with Envoy's HeaderUtility::matchHeaders semantics: repeated headers are joined with ',', a
 * missing header matches only {@code present_match: false} (inverted: only {@code true}) unless
 * {@code treat_missing_header_as_empty}, and {@code invert_match} negates the rest.
 */
final class HeaderMatchPredicate {
  private final AsciiString name;
  private final boolean invert;
  private final boolean missingAsEmpty;
  /** The present_match value, or null when another match type is configured. */
  private final @Nullable Boolean present;
  private final Predicate<String> value;

  private HeaderMatchPredicate(
      AsciiString name, boolean invert, boolean missingAsEmpty, @Nullable Boolean present, Predicate<String> value) {
    this.name = name;
    this.invert = invert;
    this.missingAsEmpty = missingAsEmpty;
    this.present = present;
    this.value = value;
  }

  static HeaderMatchPredicate compile(HeaderMatcher m, String path) {
    if (m.getName().isEmpty()) {
      throw new ConfigException(path + ".name", "header name is required");
    }
    Boolean present = null;
    Predicate<String> value = v -> true;
    switch (m.getHeaderMatchSpecifierCase()) {
      case EXACT_MATCH -> {
        String exact = m.getExactMatch();
        value = exact::equals;
      }
      case SAFE_REGEX_MATCH -> value = regex(m.getSafeRegexMatch().getRegex(), path + ".safe_regex_match.regex");
      case RANGE_MATCH -> {
        long start = m.getRangeMatch().getStart();
        long end = m.getRangeMatch().getEnd();
        value = v -> inRange(v, start, end);
      }
      case PRESENT_MATCH -> present = m.getPresentMatch();
      case PREFIX_MATCH -> {
        String prefix = m.getPrefixMatch();
        value = v -> v.startsWith(prefix);
      }
      case SUFFIX_MATCH -> {
        String suffix = m.getSuffixMatch();
        value = v -> v.endsWith(suffix);
      }
      case CONTAINS_MATCH -> {
        String contains = m.getContainsMatch();
        value = v -> v.contains(contains);
      }
      case STRING_MATCH -> value = stringMatcher(m.getStringMatch(), path + ".string_match");
      case HEADERMATCHSPECIFIER_NOT_SET -> present = true;
    }
    return new HeaderMatchPredicate(
        AsciiString.of(m.getName().toLowerCase(Locale.ROOT)),
        m.getInvertMatch(),
        m.getTreatMissingHeaderAsEmpty(),
        present,
        value);
  }

  boolean matches(@Nullable Http2Headers headers) {
    String v = headers == null ? null : joined(headers.getAll(name));
    if (v == null && !missingAsEmpty) {
      return present != null && present == invert;
    }
    boolean match = present != null ? present : value.test(v == null ? "" : v);
    return match != invert;
  }

  private static @Nullable String joined(List<CharSequence> values) {
    if (values.isEmpty()) {
      return null;
    }
    if (values.size() == 1) {
      return values.get(0).toString();
    }
    StringBuilder sb = new StringBuilder();
    for (CharSequence v : values) {
      if (!sb.isEmpty()) {
        sb.append(',');
      }
      sb.append(v);
    }
    return sb.toString();
  }

  private static boolean inRange(String v, long start, long end) {
    try {
      long n = Long.parseLong(v);
      return n >= start && n < end;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  static Predicate<String> stringMatcher(StringMatcher m, String path) {
    boolean ic = m.getIgnoreCase();
    return switch (m.getMatchPatternCase()) {
      case EXACT -> {
        String s = m.getExact();
        yield ic ? s::equalsIgnoreCase : s::equals;
      }
      case PREFIX -> {
        String s = m.getPrefix();
        yield v -> v.regionMatches(ic, 0, s, 0, s.length());
      }
      case SUFFIX -> {
        String s = m.getSuffix();
        yield v -> v.length() >= s.length() && v.regionMatches(ic, v.length() - s.length(), s, 0, s.length());
      }
      case CONTAINS -> {
        String s = ic ? m.getContains().toLowerCase(Locale.ROOT) : m.getContains();
        yield ic ? v -> v.toLowerCase(Locale.ROOT).contains(s) : v -> v.contains(s);
      }
      case SAFE_REGEX -> regex(m.getSafeRegex().getRegex(), path + ".safe_regex.regex");
      case CUSTOM, MATCHPATTERN_NOT_SET ->
          throw new ConfigException(path, "unsupported string matcher: " + m.getMatchPatternCase());
    };
  }

  private static Predicate<String> regex(String regex, String path) {
    try {
      Pattern p = Pattern.compile(regex);
      return v -> p.matches(v);
    } catch (PatternSyntaxException e) {
      throw new ConfigException(path, "invalid regex: " + e.getMessage());
    }
  }
}
