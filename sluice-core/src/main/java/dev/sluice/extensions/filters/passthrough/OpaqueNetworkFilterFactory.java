package dev.sluice.extensions.filters.passthrough;

import com.google.protobuf.Struct;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.api.network.NetworkFilterFactory;

/** A network filter with an Istio config type, passed through (see {@link OpaqueExtension}). */
public abstract class OpaqueNetworkFilterFactory extends OpaqueExtension implements NetworkFilterFactory<Struct> {
  protected OpaqueNetworkFilterFactory(String name, String typeUrl, String missing, String owner) {
    super(name, typeUrl, missing, owner);
  }

  @Override
  public final NetworkFilter create(Struct config, FactoryContext context) {
    accept(config);
    return PassThrough.NETWORK_FILTER;
  }
}
