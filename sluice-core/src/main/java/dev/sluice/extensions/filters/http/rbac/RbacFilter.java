package dev.sluice.extensions.filters.http.rbac;

import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterCallbacks;
import dev.sluice.api.http.Route;
import dev.sluice.http.ActiveStream;
import dev.sluice.rbac.ConnectionInput;
import dev.sluice.rbac.RbacEngine;
import dev.sluice.rbac.RbacStats;
import io.netty.handler.codec.http2.Http2Headers;
import org.jspecify.annotations.Nullable;

/**
 * One request through Envoy's HTTP RBAC filter: the route's policies if it has any, else the
 * filter's; shadow rules only count and leave their verdict in the stream's dynamic metadata under
 * {@code envoy.filters.http.rbac}; enforced rules that deny answer 403 {@code RBAC: access denied}
 * with details {@code rbac_access_denied_matched_policy[...]} (Envoy sets no response flag).
 */
final class RbacFilter implements HttpFilter {
  static final String DENIED_BODY = "RBAC: access denied";

  private final RbacPolicies policies;
  private final RbacStats stats;
  private @Nullable HttpFilterCallbacks callbacks;

  RbacFilter(RbacPolicies policies, RbacStats stats) {
    this.policies = policies;
    this.stats = stats;
  }

  @Override
  public void setCallbacks(HttpFilterCallbacks callbacks) {
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus decodeHeaders(Http2Headers headers, boolean endStream) {
    HttpFilterCallbacks c = callbacks;
    if (c == null) {
      throw new IllegalStateException("setCallbacks was not called");
    }
    RbacPolicies p = policies;
    Route route = c.route();
    if (route != null) {
      String name = c instanceof ActiveStream.Slot slot ? slot.filterName() : RbacFilterFactory.NAME;
      if (route.perFilterConfig(name) instanceof RbacPolicies perRoute) {
        p = perRoute;
      }
    }
    if (p.rules() == null && p.shadowRules() == null) {
      return FilterStatus.CONTINUE;
    }
    ConnectionInput in = ConnectionInput.of(c.connection(), headers, c.streamInfo());
    RbacEngine shadow = p.shadowRules();
    if (shadow != null) {
      RbacEngine.Decision d = shadow.evaluate(in);
      stats.countShadow(d);
      stats.recordShadow(d, c.streamInfo(), RbacFilterFactory.NAME);
    }
    RbacEngine rules = p.rules();
    if (rules == null) {
      return FilterStatus.CONTINUE;
    }
    RbacEngine.Decision d = rules.evaluate(in);
    stats.count(d);
    if (d.allowed()) {
      return FilterStatus.CONTINUE;
    }
    c.sendLocalReply(403, DENIED_BODY, null, RbacEngine.deniedDetails(d));
    return FilterStatus.STOP_ITERATION;
  }
}
