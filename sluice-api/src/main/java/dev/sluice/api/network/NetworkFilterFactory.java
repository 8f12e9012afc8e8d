package dev.sluice.api.network;

import com.google.protobuf.Message;
import dev.sluice.api.ExtensionFactory;
import dev.sluice.api.FactoryContext;

/** A network filter extension ({@code envoy.filters.network.*}). */
public interface NetworkFilterFactory<C extends Message> extends ExtensionFactory<C> {
  /**
   * Validates and compiles the config once (control thread).
   *
   * @throws dev.sluice.api.config.ConfigException naming the offending field
   */
  NetworkFilter create(C config, FactoryContext context);

  /** True for filters that must end a chain (they consume the data). */
  default boolean terminal() {
    return false;
  }
}
