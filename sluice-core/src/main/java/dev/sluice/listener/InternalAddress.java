package dev.sluice.listener;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.EnvoyInternalAddress;
import java.net.SocketAddress;

/**
 * Envoy's {@code envoy_internal_address}: an internal listener's name and an endpoint id, printed
 * as Envoy prints it, {@code envoy://<server_listener_name>/<endpoint_id>}. Connections to it stay
 * in the process ({@link InternalListeners}).
 */
public final class InternalAddress extends SocketAddress {
  private final String listenerName;
  private final String endpointId;

  public InternalAddress(String listenerName, String endpointId) {
    this.listenerName = listenerName;
    this.endpointId = endpointId;
  }

  /** @param path the address's field path, for errors */
  public static InternalAddress of(EnvoyInternalAddress a, String path) {
    if (a.getServerListenerName().isEmpty()) {
      throw new ConfigException(path + ".server_listener_name", "value length must be at least 1 characters");
    }
    return new InternalAddress(a.getServerListenerName(), a.getEndpointId());
  }

  public String listenerName() {
    return listenerName;
  }

  public String endpointId() {
    return endpointId;
  }

  public EnvoyInternalAddress toProto() {
    return EnvoyInternalAddress.newBuilder().setServerListenerName(listenerName).setEndpointId(endpointId).build();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InternalAddress a && a.listenerName.equals(listenerName) && a.endpointId.equals(endpointId);
  }

  @Override
  public int hashCode() {
    return listenerName.hashCode() * 31 + endpointId.hashCode();
  }

  @Override
  public String toString() {
    return "envoy://" + listenerName + "/" + endpointId;
  }
}
