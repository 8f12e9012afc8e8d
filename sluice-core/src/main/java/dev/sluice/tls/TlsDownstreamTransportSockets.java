package dev.sluice.tls;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.api.stats.StatsScope;
import dev.sluice.listener.DownstreamTransportSockets;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import java.util.function.Function;

/**
 * The listener's transport sockets: {@code envoy.transport_sockets.raw_buffer} (nothing to install)
 * and {@code envoy.transport_sockets.tls} with a {@code DownstreamTlsContext}. Each filter chain's
 * SslContext is built once here (control thread) and again only when a secret it uses changes.
 * SSL stats go to {@code listener.<address or stat_prefix>.ssl.*}, as Envoy scopes them.
 */
public final class TlsDownstreamTransportSockets implements DownstreamTransportSockets {
  static final String TLS_NAME = "envoy.transport_sockets.tls";
  static final String RAW_BUFFER_NAME = "envoy.transport_sockets.raw_buffer";
  private static final String DOWNSTREAM_TYPE = "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
  private static final String RAW_BUFFER_TYPE = "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer";

  private final SecretProvider secrets;
  private final Function<FactoryContext, StatsScope> listenerScope;

  /**
   * @param secrets where {@code *_sds_secret_config(s)} names are looked up
   * @param listenerScope the {@code listener.<address or stat_prefix>.} scope of the listener a
   *     context is being built for (Envoy names listener stats by address, not by listener name)
   */
  public TlsDownstreamTransportSockets(SecretProvider secrets, Function<FactoryContext, StatsScope> listenerScope) {
    this.secrets = secrets;
    this.listenerScope = listenerScope;
  }

  @Override
  public NetworkFilter compile(TransportSocket config, FactoryContext context, String path) {
    Any typed = config.getTypedConfig();
    String type = typed.getTypeUrl().substring(typed.getTypeUrl().lastIndexOf('/') + 1);
    if (type.equals(RAW_BUFFER_TYPE) || (!config.hasTypedConfig() && config.getName().equals(RAW_BUFFER_NAME))) {
      return RAW_BUFFER;
    }
    if (type.equals(DOWNSTREAM_TYPE)) {
      DownstreamTlsContext tls;
      try {
        tls = typed.unpack(DownstreamTlsContext.class);
      } catch (InvalidProtocolBufferException e) {
        throw new ConfigException(path + ".typed_config", "malformed DownstreamTlsContext: " + e.getMessage(), e);
      }
      return DownstreamTlsSocket.compile(tls, secrets, TlsStats.downstream(listenerScope.apply(context)), path + ".typed_config");
    }
    if (config.getName().equals(TLS_NAME) && !config.hasTypedConfig()) {
      throw new ConfigException(path + ".typed_config", "a DownstreamTlsContext is required");
    }
    throw new ConfigException(path, "transport socket '" + config.getName() + "' with type '" + typed.getTypeUrl() + "' is not supported");
  }
}
