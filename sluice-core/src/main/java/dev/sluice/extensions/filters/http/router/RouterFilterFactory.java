package dev.sluice.extensions.filters.http.router;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import dev.sluice.http.HttpConnectionManagerStats;
import dev.sluice.server.ServerFactoryContext;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import java.util.function.Supplier;

/** {@code envoy.filters.http.router}: the terminal filter of every HTTP filter chain. */
public final class RouterFilterFactory implements HttpFilterFactory<Router> {
  @Override
  public String name() {
    return "envoy.filters.http.router";
  }

  @Override
  public Class<Router> configType() {
    return Router.class;
  }

  @Override
  public Router defaultInstance() {
    return Router.getDefaultInstance();
  }

  @Override
  public boolean terminal() {
    return true;
  }

  @Override
  public Supplier<HttpFilter> create(Router config, String statPrefix, FactoryContext context) {
    if (!(context instanceof ServerFactoryContext server)) {
      throw new ConfigException("", "the router needs the server's connection pools");
    }
    if (config.getUpstreamHttpFiltersCount() > 0) {
      throw new ConfigException("upstream_http_filters", "upstream HTTP filters are not supported");
    }
    RouterConfig rc = RouterConfig.of(config, context.clusterManager(), server.connectionPools(),
        new HttpConnectionManagerStats(context.stats().scope(statPrefix)));
    return () -> new RouterFilter(rc);
  }
}
