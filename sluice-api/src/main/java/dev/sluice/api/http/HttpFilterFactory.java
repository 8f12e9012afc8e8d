package dev.sluice.api.http;

import com.google.protobuf.Message;
import dev.sluice.api.ExtensionFactory;
import dev.sluice.api.FactoryContext;

/**
 * An HTTP filter extension ({@code envoy.filters.http.*}). The factory compiles the config once per
 * HTTP connection manager; the returned supplier makes one filter per stream.
 */
public interface HttpFilterFactory<C extends Message> extends ExtensionFactory<C> {
  /**
   * @param statPrefix the connection manager's stats prefix, {@code http.<stat_prefix>.}
   * @throws dev.sluice.api.config.ConfigException naming the offending field
   */
  java.util.function.Supplier<HttpFilter> create(C config, String statPrefix, FactoryContext context);

  /**
   * Compiles a {@code typed_per_filter_config} entry (already unpacked into {@code config}'s type)
   * into the object {@link Route#perFilterConfig} returns; the default keeps the message as is.
   */
  default Object createRouteSpecificConfig(Message config, FactoryContext context) {
    return config;
  }

  /** True for the terminal filter ({@code envoy.filters.http.router}). */
  default boolean terminal() {
    return false;
  }
}
