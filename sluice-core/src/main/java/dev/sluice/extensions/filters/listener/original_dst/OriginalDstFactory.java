package dev.sluice.extensions.filters.listener.original_dst;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.network.ListenerFilter;
import dev.sluice.api.network.ListenerFilterFactory;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import java.util.function.Supplier;

/** {@code envoy.filters.listener.original_dst}; stateless, so one filter serves every connection. */
public final class OriginalDstFactory implements ListenerFilterFactory<OriginalDst> {
  @Override
  public String name() {
    return "envoy.filters.listener.original_dst";
  }

  @Override
  public Class<OriginalDst> configType() {
    return OriginalDst.class;
  }

  @Override
  public OriginalDst defaultInstance() {
    return OriginalDst.getDefaultInstance();
  }

  @Override
  public Supplier<ListenerFilter> create(OriginalDst config, FactoryContext context) {
    return () -> OriginalDstFilter.INSTANCE;
  }
}
