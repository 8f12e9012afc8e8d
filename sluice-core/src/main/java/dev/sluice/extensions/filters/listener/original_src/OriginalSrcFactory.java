package dev.sluice.extensions.filters.listener.original_src;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.network.ListenerFilter;
import dev.sluice.api.network.ListenerFilterFactory;
import dev.sluice.listener.Workers;
import io.envoyproxy.envoy.extensions.filters.listener.original_src.v3.OriginalSrc;
import java.util.function.Supplier;

/**
 * {@code envoy.filters.listener.original_src}, which istiod puts on {@code virtualInbound} in
 * TPROXY interception mode ({@code mark: 1337}). {@code bind_port} is not implemented by Envoy
 * either (the kernel picks the port). One stateless filter serves every connection.
 */
public final class OriginalSrcFactory implements ListenerFilterFactory<OriginalSrc> {
  @Override
  public String name() {
    return "envoy.filters.listener.original_src";
  }

  @Override
  public Class<OriginalSrc> configType() {
    return OriginalSrc.class;
  }

  @Override
  public OriginalSrc defaultInstance() {
    return OriginalSrc.getDefaultInstance();
  }

  @Override
  public Supplier<ListenerFilter> create(OriginalSrc config, FactoryContext context) {
    if (!Workers.epollAvailable()) {
      // Binding to a non-local source needs IP_TRANSPARENT, a Linux socket option.
      throw new ConfigException("typed_config", "envoy.filters.listener.original_src needs the epoll transport (Linux)");
    }
    OriginalSrcFilter filter = new OriginalSrcFilter(config.getMark());
    return () -> filter;
  }
}
