package dev.sluice.extensions.filters.http.rbac;

import com.google.protobuf.Message;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import dev.sluice.rbac.RbacStats;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code envoy.filters.http.rbac} ({@code envoy.extensions.filters.http.rbac.v3.RBAC}); per route,
 * {@code RBACPerRoute} (its {@code rbac} replaces the filter's; an empty one disables the filter
 * there). Stats {@code http.<stat_prefix>.rbac.<rules_stat_prefix>allowed|denied} and
 * {@code ...rbac.<shadow_rules_stat_prefix>shadow_allowed|shadow_denied}; dynamic metadata
 * {@code <shadow_rules_stat_prefix>shadow_effective_policy_id|shadow_engine_result} under
 * {@code envoy.filters.http.rbac}. Not kept: {@code track_per_rule_stats}.
 */
public final class RbacFilterFactory implements HttpFilterFactory<RBAC> {
  public static final String NAME = "envoy.filters.http.rbac";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> aliases() {
    return List.of("envoy.rbac");
  }

  @Override
  public Class<RBAC> configType() {
    return RBAC.class;
  }

  @Override
  public RBAC defaultInstance() {
    return RBAC.getDefaultInstance();
  }

  @Override
  public Supplier<HttpFilter> create(RBAC config, String statPrefix, FactoryContext context) {
    RbacPolicies policies = RbacPolicies.compile(config);
    RbacStats stats = new RbacStats(context.stats(), statPrefix, config.getRulesStatPrefix(), config.getShadowRulesStatPrefix());
    return () -> new RbacFilter(policies, stats);
  }

  @Override
  public Object createRouteSpecificConfig(Message config, FactoryContext context) {
    return compileRoute(config);
  }

  static RbacPolicies compileRoute(Message config) {
    if (config instanceof RBACPerRoute perRoute) {
      if (!perRoute.hasRbac()) {
        return RbacPolicies.NONE;
      }
      try {
        return RbacPolicies.compile(perRoute.getRbac());
      } catch (ConfigException e) {
        throw e.under("rbac");
      }
    }
    throw new ConfigException("", "expected " + RBACPerRoute.getDescriptor().getFullName() + " but got "
        + config.getDescriptorForType().getFullName());
  }
}
