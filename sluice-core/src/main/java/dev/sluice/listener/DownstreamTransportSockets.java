package dev.sluice.listener;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.network.NetworkFilter;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;

/**
 * Compiles a filter chain's {@code transport_socket} once into what installs it on each accepted
 * connection (TLS adds its handler at the head of the pipeline). The TLS subsystem provides the
 * real implementation; {@link #PLAINTEXT_ONLY} accepts only {@code raw_buffer}.
 */
@FunctionalInterface
public interface DownstreamTransportSockets {
  NetworkFilter compile(TransportSocket config, FactoryContext context, String path);

  /** No transport socket, or {@code envoy.transport_sockets.raw_buffer}: nothing to install. */
  NetworkFilter RAW_BUFFER = connection -> {};

  /** Accepts only plaintext chains; a TLS chain is a config error naming the field. */
  DownstreamTransportSockets PLAINTEXT_ONLY =
      (config, context, path) -> {
        if (config.getName().equals("envoy.transport_sockets.raw_buffer")
            || config.getTypedConfig().getTypeUrl().endsWith("envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer")) {
          return RAW_BUFFER;
        }
        throw new ConfigException(path, "transport socket '" + config.getName() + "' is not available");
      };
}
