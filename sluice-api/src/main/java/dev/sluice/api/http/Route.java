package dev.sluice.api.http;

import org.jspecify.annotations.Nullable;

/** The route a request matched, as filters see it. */
public interface Route {
  /** The route's {@code name}, or empty. */
  String name();

  /**
   * The route's (or its virtual host's, or route configuration's, most specific first) compiled
   * {@code typed_per_filter_config} for the filter with that name, or null.
   */
  @Nullable Object perFilterConfig(String filterName);
}
