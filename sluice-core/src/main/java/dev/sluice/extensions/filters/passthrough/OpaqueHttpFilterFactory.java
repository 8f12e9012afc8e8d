package dev.sluice.extensions.filters.passthrough;

import com.google.protobuf.Struct;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.http.HttpFilter;
import dev.sluice.api.http.HttpFilterFactory;
import java.util.function.Supplier;

/** An HTTP filter with an Istio config type, passed through (see {@link OpaqueExtension}). */
public abstract class OpaqueHttpFilterFactory extends OpaqueExtension implements HttpFilterFactory<Struct> {
  protected OpaqueHttpFilterFactory(String name, String typeUrl, String missing, String owner) {
    super(name, typeUrl, missing, owner);
  }

  @Override
  public final Supplier<HttpFilter> create(Struct config, String statPrefix, FactoryContext context) {
    accept(config);
    return () -> PassThrough.HTTP_FILTER;
  }
}
