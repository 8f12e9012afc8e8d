package dev.sluice.extensions.filters.http.on_demand;

import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterCallbacks;
import io.netty.handler.codec.http2.Http2Headers;
import org.jspecify.annotations.Nullable;

/**
 * One stream of the {@code on_demand} filter (Envoy's on-demand VHDS): a request that matched a
 * route goes on at once (the route lookup the router would make anyway, cached); one whose
 * authority no virtual host of a VHDS table matches stops here while the virtual host
 * {@code <route configuration name>/<host>} is asked for, and goes on (the rest of it buffered
 * meanwhile) when it arrives, routed with it, or when the control plane says there is none or
 * the wait runs out, to be answered 404 (NR) by the router.
 */
final class OnDemandFilter implements HttpFilter {
  private @Nullable HttpFilterCallbacks callbacks;

  @Override
  public void setCallbacks(HttpFilterCallbacks callbacks) {
    this.callbacks = callbacks;
  }

  @Override
  public FilterStatus decodeHeaders(Http2Headers headers, boolean endStream) {
    HttpFilterCallbacks c = callbacks;
    if (c == null || c.route() != null) {
      return FilterStatus.CONTINUE;
    }
    return c.requestRouteConfigUpdate(found -> c.continueDecoding()) ? FilterStatus.STOP_ITERATION : FilterStatus.CONTINUE;
  }
}
