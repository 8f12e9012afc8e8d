package dev.sluice.server;

import com.google.common.net.InetAddresses;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import java.net.InetSocketAddress;
import org.jspecify.annotations.Nullable;

/** The admin listener's address from {@code admin.address}, or null when the admin is off. */
final class AdminAddress {
  private AdminAddress() {}

  /** @throws ConfigException naming {@code admin.address...} for an address that cannot be bound */
  static @Nullable InetSocketAddress of(Admin admin) {
    if (!admin.hasAddress()) {
      return null; // As Envoy: no address, no admin listener.
    }
    if (!admin.getAddress().hasSocketAddress()) {
      throw new ConfigException("admin.address", "only socket_address is supported for the admin listener");
    }
    SocketAddress sa = admin.getAddress().getSocketAddress();
    if (sa.getProtocol() != SocketAddress.Protocol.TCP) {
      throw new ConfigException("admin.address.socket_address.protocol", "the admin listener is TCP only");
    }
    if (sa.getPortSpecifierCase() == SocketAddress.PortSpecifierCase.NAMED_PORT) {
      throw new ConfigException("admin.address.socket_address.named_port", "named ports are not supported");
    }
    if (!InetAddresses.isInetAddress(sa.getAddress())) {
      throw new ConfigException("admin.address.socket_address.address",
          "malformed IP address: " + sa.getAddress());
    }
    if (sa.getPortValue() > 65535) {
      throw new ConfigException("admin.address.socket_address.port_value",
          "must be at most 65535, got " + Integer.toUnsignedString(sa.getPortValue()));
    }
    return new InetSocketAddress(InetAddresses.forString(sa.getAddress()), sa.getPortValue());
  }
}
