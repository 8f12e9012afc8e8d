package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import org.jspecify.annotations.Nullable;

/**
 * A route {@code QueryParameterMatcher}: the first value of the named parameter must exist and, with
 * a {@code string_match}, match it; {@code present_match} only asks for existence. As in Envoy, an
 * absent parameter never matches.
 */
final class QueryParameterMatcher {
  private final String name;
  private final @Nullable StringMatcher matcher;

  private QueryParameterMatcher(String name, @Nullable StringMatcher matcher) {
    this.name = name;
    this.matcher = matcher;
  }

  static QueryParameterMatcher compile(
      io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher m, String path) {
    if (m.getName().isEmpty()) {
      throw new ConfigException(path + ".name", "value length must be at least 1 characters");
    }
    StringMatcher sm =
        m.hasStringMatch() ? StringMatcher.compile(m.getStringMatch(), path + ".string_match") : null;
    return new QueryParameterMatcher(m.getName(), sm);
  }

  boolean matches(CharSequence pathWithQuery) {
    CharSequence value = RequestViews.queryParameter(pathWithQuery, name);
    if (value == null) {
      return false;
    }
    return matcher == null || matcher.matches(value);
  }
}
