package dev.sluice.extensions.filters.http.rbac;

import dev.sluice.api.config.ConfigException;
import dev.sluice.rbac.RbacEngine;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC;
import org.jspecify.annotations.Nullable;

/**
 * The enforced and shadow engines of one HTTP {@code RBAC} message (the filter's, or a route's
 * {@code RBACPerRoute.rbac}); either may be absent: no {@code rules} enforces nothing, no
 * {@code shadow_rules} counts nothing.
 */
record RbacPolicies(@Nullable RbacEngine rules, @Nullable RbacEngine shadowRules) {
  static final RbacPolicies NONE = new RbacPolicies(null, null);

  static RbacPolicies compile(RBAC config) {
    if (config.hasMatcher()) {
      throw new ConfigException("matcher", "the RBAC matcher API is not supported; use rules");
    }
    if (config.hasShadowMatcher()) {
      throw new ConfigException("shadow_matcher", "the RBAC matcher API is not supported; use shadow_rules");
    }
    return new RbacPolicies(
        config.hasRules() ? RbacEngine.compile(config.getRules(), "rules") : null,
        config.hasShadowRules() ? RbacEngine.compile(config.getShadowRules(), "shadow_rules") : null);
  }
}
