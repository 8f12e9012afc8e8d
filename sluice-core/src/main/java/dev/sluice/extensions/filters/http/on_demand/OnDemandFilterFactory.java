package dev.sluice.extensions.filters.http.on_demand;

import com.google.protobuf.Message;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import io.envoyproxy.envoy.extensions.filters.http.on_demand.v3.OnDemand;
import io.envoyproxy.envoy.extensions.filters.http.on_demand.v3.PerRouteConfig;
import java.util.List;
import java.util.function.Supplier;

/**
 * {@code envoy.filters.http.on_demand}: a request whose authority no virtual host of a VHDS route
 * configuration matches waits while the virtual host is fetched ({@link OnDemandFilter}).
 * On-demand CDS ({@code odcds}) is not supported and refused rather than ignored.
 */
public final class OnDemandFilterFactory implements HttpFilterFactory<OnDemand> {
  public static final String NAME = "envoy.filters.http.on_demand";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<String> aliases() {
    return List.of("envoy.on_demand");
  }

  @Override
  public Class<OnDemand> configType() {
    return OnDemand.class;
  }

  @Override
  public OnDemand defaultInstance() {
    return OnDemand.getDefaultInstance();
  }

  @Override
  public Supplier<HttpFilter> create(OnDemand config, String statPrefix, FactoryContext context) {
    if (config.hasOdcds()) {
      throw new ConfigException("odcds", "on-demand cluster discovery (ODCDS) is not supported");
    }
    return OnDemandFilter::new;
  }

  @Override
  public Object createRouteSpecificConfig(Message config, FactoryContext context) {
    if (config instanceof PerRouteConfig perRoute && perRoute.hasOdcds()) {
      throw new ConfigException("odcds", "on-demand cluster discovery (ODCDS) is not supported");
    }
    return config;
  }
}
