package dev.sluice.extensions.filters.listener.tls_inspector;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.network.ListenerFilter;
import dev.sluice.api.network.ListenerFilterFactory;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import java.util.function.Supplier;

/** {@code envoy.filters.listener.tls_inspector}. JA3/JA4 fingerprinting is not implemented. */
public final class TlsInspectorFactory implements ListenerFilterFactory<TlsInspector> {
  @Override
  public String name() {
    return "envoy.filters.listener.tls_inspector";
  }

  @Override
  public Class<TlsInspector> configType() {
    return TlsInspector.class;
  }

  @Override
  public TlsInspector defaultInstance() {
    return TlsInspector.getDefaultInstance();
  }

  @Override
  public Supplier<ListenerFilter> create(TlsInspector config, FactoryContext context) {
    TlsInspectorStats stats = new TlsInspectorStats(context.stats());
    return () -> new dev.sluice.extensions.filters.listener.tls_inspector.TlsInspector(stats);
  }
}
