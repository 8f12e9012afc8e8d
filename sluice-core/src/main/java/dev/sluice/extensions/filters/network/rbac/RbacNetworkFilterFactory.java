package dev.sluice.extensions.filters.network.rbac;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.api.network.NetworkFilterFactory;
import dev.sluice.rbac.RbacEngine;
import dev.sluice.rbac.RbacStats;
import io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC;

/**
 * {@code envoy.filters.network.rbac} ({@code envoy.extensions.filters.network.rbac.v3.RBAC}): the
 * connection's peer, addresses and SNI against the policies; stats
 * {@code <stat_prefix>rbac.allowed|denied|<shadow_rules_stat_prefix>shadow_allowed|...}, e.g. Istio's
 * {@code tcp.rbac.allowed}; the shadow verdict as dynamic metadata under
 * {@code envoy.filters.network.rbac}, as the HTTP filter.
 */
public final class RbacNetworkFilterFactory implements NetworkFilterFactory<RBAC> {
  static final String NAME = "envoy.filters.network.rbac";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public java.util.List<String> aliases() {
    return java.util.List.of("envoy.rbac");
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
  public NetworkFilter create(RBAC config, FactoryContext context) {
    RbacNetworkConfig compiled = compile(config, context);
    return connection -> connection.channel.pipeline().addLast("rbac", new RbacConnectionHandler(compiled, connection));
  }

  static RbacNetworkConfig compile(RBAC c, FactoryContext context) {
    if (c.getStatPrefix().isEmpty()) {
      throw new ConfigException("stat_prefix", "value length must be at least 1 characters");
    }
    if (c.hasMatcher()) {
      throw new ConfigException("matcher", "the RBAC matcher API is not supported; use rules");
    }
    if (c.hasShadowMatcher()) {
      throw new ConfigException("shadow_matcher", "the RBAC matcher API is not supported; use shadow_rules");
    }
    if (c.getEnforcementType() == RBAC.EnforcementType.UNRECOGNIZED) {
      throw new ConfigException("enforcement_type", "value must be one of the defined enum values");
    }
    long delay = 0;
    if (c.hasDelayDeny()) {
      var d = c.getDelayDeny();
      if (d.getSeconds() < 0 || d.getNanos() < 0) {
        throw new ConfigException("delay_deny", "value must not be negative");
      }
      delay = d.getSeconds() * 1_000_000_000L + d.getNanos();
    }
    return new RbacNetworkConfig(
        c.hasRules() ? RbacEngine.compile(c.getRules(), "rules") : null,
        c.hasShadowRules() ? RbacEngine.compile(c.getShadowRules(), "shadow_rules") : null,
        new RbacStats(context.stats(), c.getStatPrefix(), "", c.getShadowRulesStatPrefix()),
        c.getEnforcementType() == RBAC.EnforcementType.CONTINUOUS, delay);
  }
}
