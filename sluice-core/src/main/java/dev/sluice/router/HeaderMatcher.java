package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * A compiled route {@code HeaderMatcher} with Envoy's semantics: the values of a repeated header are
 * joined with ','; an absent header matches only a {@code present_match} that expects absence (or,
 * inverted, presence) unless {@code treat_missing_header_as_empty}; otherwise the result is XOR-ed
 * with {@code invert_match}. An empty deprecated {@code exact_match} matches any value.
 */
public final class HeaderMatcher {
  private enum Type {
    STRING,
    RANGE,
    PRESENT
  }

  private final AsciiString name;
  private final Type type;
  private final @Nullable StringMatcher stringMatcher;
  private final long rangeStart;
  private final long rangeEnd;
  private final boolean present;
  private final boolean invert;
  private final boolean treatMissingAsEmpty;

  private HeaderMatcher(
      String name,
      Type type,
      @Nullable StringMatcher stringMatcher,
      long rangeStart,
      long rangeEnd,
      boolean present,
      boolean invert,
      boolean treatMissingAsEmpty) {
    this.name = AsciiString.of(name.toLowerCase(Locale.ROOT));
    this.type = type;
    this.stringMatcher = stringMatcher;
    this.rangeStart = rangeStart;
    this.rangeEnd = rangeEnd;
    this.present = present;
    this.invert = invert;
    this.treatMissingAsEmpty = treatMissingAsEmpty;
  }

  public static HeaderMatcher compile(io.envoyproxy.envoy.config.route.v3.HeaderMatcher m, String path) {
    if (m.getName().isEmpty()) {
      throw new ConfigException(path + ".name", "value length must be at least 1 characters");
    }
    Type type = Type.STRING;
    StringMatcher sm = null;
    long start = 0;
    long end = 0;
    boolean present = true;
    switch (m.getHeaderMatchSpecifierCase()) {
      case EXACT_MATCH ->
          sm =
              m.getExactMatch().isEmpty()
                  ? StringMatcher.literal(StringMatcher.Kind.PREFIX, "", false)
                  : StringMatcher.literal(StringMatcher.Kind.EXACT, m.getExactMatch(), false);
      case SAFE_REGEX_MATCH ->
          sm = StringMatcher.regex(Regexes.compile(m.getSafeRegexMatch(), path + ".safe_regex_match"));
      case PREFIX_MATCH -> sm = StringMatcher.literal(StringMatcher.Kind.PREFIX, m.getPrefixMatch(), false);
      case SUFFIX_MATCH -> sm = StringMatcher.literal(StringMatcher.Kind.SUFFIX, m.getSuffixMatch(), false);
      case CONTAINS_MATCH ->
          sm = StringMatcher.literal(StringMatcher.Kind.CONTAINS, m.getContainsMatch(), false);
      case STRING_MATCH -> sm = StringMatcher.compile(m.getStringMatch(), path + ".string_match");
      case RANGE_MATCH -> {
        type = Type.RANGE;
        start = m.getRangeMatch().getStart();
        end = m.getRangeMatch().getEnd();
      }
      case PRESENT_MATCH -> {
        type = Type.PRESENT;
        present = m.getPresentMatch();
      }
      case HEADERMATCHSPECIFIER_NOT_SET -> type = Type.PRESENT;
    }
    return new HeaderMatcher(
        m.getName(), type, sm, start, end, present, m.getInvertMatch(), m.getTreatMissingHeaderAsEmpty());
  }

  public boolean matches(Http2Headers headers) {
    CharSequence value = RequestViews.joinedValue(headers, name);
    if (value == null) {
      if (!treatMissingAsEmpty) {
        return type == Type.PRESENT && (invert ? present : !present);
      }
      value = "";
    }
    boolean match =
        switch (type) {
          case STRING -> stringMatcher != null && stringMatcher.matches(value);
          case PRESENT -> present;
          case RANGE -> inRange(value);
        };
    return match != invert;
  }

  private boolean inRange(CharSequence value) {
    int n = value.length();
    if (n == 0 || n > 20) {
      return false;
    }
    int i = 0;
    boolean negative = value.charAt(0) == '-';
    if (negative || value.charAt(0) == '+') {
      i = 1;
      if (n == 1) {
        return false;
      }
    }
    long v = 0;
    for (; i < n; i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
      long next = v * 10 + (c - '0');
      if (next < v) {
        return false; // overflow: SimpleAtoi fails, so no match
      }
      v = next;
    }
    v = negative ? -v : v;
    return v >= rangeStart && v < rangeEnd;
  }
}
