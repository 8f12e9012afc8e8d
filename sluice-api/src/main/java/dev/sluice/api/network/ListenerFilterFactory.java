package dev.sluice.api.network;

import com.google.protobuf.Message;
import dev.sluice.api.ExtensionFactory;
import dev.sluice.api.FactoryContext;

/** Builds a listener filter's shared config once; {@link #create} returns a per-connection filter supplier. */
public interface ListenerFilterFactory<C extends Message> extends ExtensionFactory<C> {
  java.util.function.Supplier<ListenerFilter> create(C config, FactoryContext context);
}
