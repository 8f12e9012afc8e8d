package dev.sluice.extensions.filters.http.cors;

import dev.sluice.router.RuntimeFraction;
import dev.sluice.router.StringMatcher;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code CorsPolicy} (typed per-filter config, or a route's legacy {@code cors} field).
 * Unset fields are null/empty so the filter can fall through to a less specific level, as Envoy's
 * CORS filter does field by field. Runtime keys are not consulted: fractions use their defaults.
 */
record CorsPolicyConfig(
    List<StringMatcher> allowOrigins,
    String allowMethods,
    String allowHeaders,
    String exposeHeaders,
    String maxAge,
    @Nullable Boolean allowCredentials,
    @Nullable RuntimeFraction filterEnabled,
    @Nullable RuntimeFraction shadowEnabled,
    @Nullable Boolean allowPrivateNetworkAccess,
    @Nullable Boolean forwardNotMatchingPreflights) {

  static CorsPolicyConfig compile(CorsPolicy p, String fieldPath) {
    List<StringMatcher> origins = new ArrayList<>();
    for (int i = 0; i < p.getAllowOriginStringMatchCount(); i++) {
      origins.add(
          StringMatcher.compile(
              p.getAllowOriginStringMatch(i), fieldPath + "allow_origin_string_match[" + i + "]"));
    }
    return new CorsPolicyConfig(
        List.copyOf(origins),
        p.getAllowMethods(),
        p.getAllowHeaders(),
        p.getExposeHeaders(),
        p.getMaxAge(),
        p.hasAllowCredentials() ? p.getAllowCredentials().getValue() : null,
        p.hasFilterEnabled()
            ? RuntimeFraction.of(p.getFilterEnabled().getDefaultValue(), fieldPath + "filter_enabled.default_value")
            : null,
        p.hasShadowEnabled()
            ? RuntimeFraction.of(p.getShadowEnabled().getDefaultValue(), fieldPath + "shadow_enabled.default_value")
            : null,
        p.hasAllowPrivateNetworkAccess() ? p.getAllowPrivateNetworkAccess().getValue() : null,
        p.hasForwardNotMatchingPreflights() ? p.getForwardNotMatchingPreflights().getValue() : null);
  }

  /** {@code filter_enabled}: on unless configured (then by its fraction). */
  boolean enabled(long random) {
    return filterEnabled == null || filterEnabled.enabled(random);
  }

  /** {@code shadow_enabled}: off unless configured. */
  boolean shadowEnabled(long random) {
    return shadowEnabled != null && shadowEnabled.enabled(random);
  }
}
