package dev.sluice.router;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatchAndSubstitute;

/**
 * A compiled {@code RegexMatchAndSubstitute}: every match of the pattern is replaced (RE2's
 * GlobalReplace). The substitution uses RE2's rewrite syntax: {@code \0}..{@code \9} insert capture
 * groups, {@code \\} a backslash; anything else after a backslash is rejected at config time.
 */
public final class RegexSubstitution {
  private final Pattern pattern;
  /** Literal parts as String, group references as Integer, in order. */
  private final Object[] parts;

  private RegexSubstitution(Pattern pattern, Object[] parts) {
    this.pattern = pattern;
    this.parts = parts;
  }

  public static RegexSubstitution compile(RegexMatchAndSubstitute m, String fieldPath) {
    Pattern pattern = Regexes.compile(m.getPattern(), fieldPath + ".pattern");
    String sub = m.getSubstitution();
    java.util.List<Object> parts = new java.util.ArrayList<>();
    StringBuilder literal = new StringBuilder();
    for (int i = 0; i < sub.length(); i++) {
      char c = sub.charAt(i);
      if (c != '\\') {
        literal.append(c);
        continue;
      }
      if (i + 1 == sub.length()) {
        throw new ConfigException(fieldPath + ".substitution", "invalid rewrite pattern: trailing '\\'");
      }
      char d = sub.charAt(++i);
      if (d == '\\') {
        literal.append('\\');
      } else if (d >= '0' && d <= '9') {
        int group = d - '0';
        if (group > pattern.groupCount()) {
          throw new ConfigException(
              fieldPath + ".substitution",
              "rewrite references group \\" + group + " but the regex has " + pattern.groupCount() + " groups");
        }
        if (!literal.isEmpty()) {
          parts.add(literal.toString());
          literal.setLength(0);
        }
        parts.add(group);
      } else {
        throw new ConfigException(fieldPath + ".substitution", "invalid rewrite pattern: '\\" + d + "'");
      }
    }
    if (!literal.isEmpty()) {
      parts.add(literal.toString());
    }
    return new RegexSubstitution(pattern, parts.toArray());
  }

  /** Replaces every match in {@code input}; returns the input unchanged (as a String) without one. */
  public String replaceAll(CharSequence input) {
    Matcher m = pattern.matcher(input);
    StringBuilder out = null;
    int last = 0;
    int searchFrom = 0;
    int len = input.length();
    while (searchFrom <= len && m.find(searchFrom)) {
      if (out == null) {
        out = new StringBuilder(len + 16);
      }
      int start = m.start();
      int end = m.end();
      out.append(input, last, start);
      for (Object p : parts) {
        if (p instanceof String s) {
          out.append(s);
        } else {
          String g = m.group((Integer) p);
          if (g != null) {
            out.append(g);
          }
        }
      }
      last = end;
      // An empty match advances by one character so the loop ends (as RE2's GlobalReplace).
      if (end == start) {
        if (end < len) {
          out.append(input.charAt(end));
        }
        last = end + 1;
        searchFrom = end + 1;
      } else {
        searchFrom = end;
      }
    }
    if (out == null) {
      return input.toString();
    }
    if (last < len) {
      out.append(input, last, len);
    }
    return out.toString();
  }
}
