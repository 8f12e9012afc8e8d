package dev.sluice.extensions.filters.listener.http_inspector;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.network.ListenerFilter;
import dev.sluice.api.network.ListenerFilterFactory;
import io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector;
import java.util.function.Supplier;

/** {@code envoy.filters.listener.http_inspector}. */
public final class HttpInspectorFactory implements ListenerFilterFactory<HttpInspector> {
  @Override
  public String name() {
    return "envoy.filters.listener.http_inspector";
  }

  @Override
  public Class<HttpInspector> configType() {
    return HttpInspector.class;
  }

  @Override
  public HttpInspector defaultInstance() {
    return HttpInspector.getDefaultInstance();
  }

  @Override
  public Supplier<ListenerFilter> create(HttpInspector config, FactoryContext context) {
    HttpInspectorStats stats = new HttpInspectorStats(context.stats());
    return () -> new dev.sluice.extensions.filters.listener.http_inspector.HttpInspector(stats);
  }
}
