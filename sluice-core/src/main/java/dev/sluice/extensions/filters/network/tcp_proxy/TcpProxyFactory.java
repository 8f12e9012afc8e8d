package dev.sluice.extensions.filters.network.tcp_proxy;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.network.NetworkFilter;
import dev.sluice.api.network.NetworkFilterFactory;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;

/** {@code envoy.filters.network.tcp_proxy}: terminal. */
public final class TcpProxyFactory implements NetworkFilterFactory<TcpProxy> {
  private final IntUnaryOperator random;

  public TcpProxyFactory() {
    this(bound -> ThreadLocalRandom.current().nextInt(bound));
  }

  /** @param random returns a value in [0, bound) for weighted cluster picks */
  TcpProxyFactory(IntUnaryOperator random) {
    this.random = random;
  }

  @Override
  public String name() {
    return "envoy.filters.network.tcp_proxy";
  }

  @Override
  public java.util.List<String> aliases() {
    return java.util.List.of("envoy.tcp_proxy");
  }

  @Override
  public Class<TcpProxy> configType() {
    return TcpProxy.class;
  }

  @Override
  public TcpProxy defaultInstance() {
    return TcpProxy.getDefaultInstance();
  }

  @Override
  public boolean terminal() {
    return true;
  }

  @Override
  public NetworkFilter create(TcpProxy config, FactoryContext context) {
    if (config.hasTunnelingConfig()) {
      // HTTP CONNECT tunnelling (Istio's HBONE connect_originate) is not implemented: the listener
      // loads, and each connection is refused rather than sent untunnelled to a CONNECT peer.
      TcpProxyConfig.from(config.toBuilder().clearTunnelingConfig().build(), context, random);
      return connection -> {
        connection.streamInfo.connectionTerminationDetails = "tcp_proxy_tunneling_not_supported";
        connection.channel.close();
      };
    }
    TcpProxyConfig compiled = TcpProxyConfig.from(config, context, random);
    return connection -> connection.channel.pipeline().addLast("tcp_proxy", new TcpProxySession(compiled, connection));
  }
}
