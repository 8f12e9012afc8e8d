package dev.sluice.api;

import com.google.protobuf.Message;
import java.util.List;

/**
 * An extension registered through {@link java.util.ServiceLoader}: found by the type URL of its
 * config message (as Envoy matches {@code typed_config}) or by its Envoy name.
 *
 * @param <C> the config message type, e.g. {@code envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy}
 */
public interface ExtensionFactory<C extends Message> {
  /** Envoy's canonical extension name, e.g. {@code envoy.filters.network.tcp_proxy}. */
  String name();

  /** Other names the extension answers to (deprecated Envoy names, Istio's short names). */
  default List<String> aliases() {
    return List.of();
  }

  /** The config message class; its descriptor's full name gives the type URL. */
  Class<C> configType();

  /** The type URL of the config: {@code type.googleapis.com/<full name>}. */
  default String typeUrl() {
    return "type.googleapis.com/" + defaultInstance().getDescriptorForType().getFullName();
  }

  /** The default instance of {@link #configType()}, for unpacking. */
  C defaultInstance();
}
