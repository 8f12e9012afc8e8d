package dev.sluice.router;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;

/** Compiles Envoy {@code safe_regex} values with RE2J (linear time, RE2 syntax, as Envoy's RE2). */
public final class Regexes {
  private Regexes() {}

  /**
   * @param fieldPath the path of the {@code RegexMatcher} message; errors name its {@code regex}
   */
  public static Pattern compile(RegexMatcher matcher, String fieldPath) {
    return compile(matcher.getRegex(), fieldPath + ".regex");
  }

  /** @param fieldPath the path of the regex string itself */
  public static Pattern compile(String regex, String fieldPath) {
    if (regex.isEmpty()) {
      throw new ConfigException(fieldPath, "value length must be at least 1 characters");
    }
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new ConfigException(fieldPath, "invalid regex '" + regex + "': " + e.getMessage(), e);
    }
  }
}
