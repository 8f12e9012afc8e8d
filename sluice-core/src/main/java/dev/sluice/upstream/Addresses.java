package dev.sluice.upstream;

import com.google.common.net.InetAddresses;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** Validation of {@code core.v3.Address} values into socket addresses, with field paths. */
public final class Addresses {
  private Addresses() {}

  /**
   * A pipe's Unix domain socket. As Envoy, a relative path is relative to the working directory
   * (pilot-agent starts the proxy in {@code /} with {@code ./etc/istio/proxy/XDS}), and a path
   * starting with {@code @} names a Linux abstract socket (kept as Netty's leading NUL).
   *
   * @throws ConfigException naming {@code path.path} for an empty or over-long path
   */
  public static DomainSocketAddress pipe(Pipe pipe, String path) {
    String p = pipe.getPath();
    if (p.isEmpty() || p.equals("@")) {
      throw new ConfigException(path + ".path", "must not be empty");
    }
    // sockaddr_un.sun_path holds 108 bytes, the terminating NUL of a filesystem path included.
    int limit = p.startsWith("@") ? 108 : 107;
    if (p.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > limit) {
      throw new ConfigException(path + ".path", "longer than the " + limit + " bytes a Unix socket path holds: " + p);
    }
    if (pipe.getMode() > 0777) {
      throw new ConfigException(path + ".mode", "must be at most 0777, got " + Integer.toOctalString(pipe.getMode()));
    }
    return new DomainSocketAddress(p.startsWith("@") ? "\0" + p.substring(1) : p);
  }

  /** A pipe as Envoy prints it: its path, {@code @name} for an abstract socket. */
  public static String format(DomainSocketAddress pipe) {
    String p = pipe.path();
    return p.startsWith("\0") ? "@" + p.substring(1) : p;
  }

  /** The socket address part, validated: TCP, a port in range. The host is not resolved. */
  static SocketAddress socket(Address address, String path) {
    if (!address.hasSocketAddress()) {
      throw new ConfigException(path + ".socket_address", "only socket addresses are supported here");
    }
    SocketAddress s = address.getSocketAddress();
    String at = path + ".socket_address";
    if (s.getProtocol() != SocketAddress.Protocol.TCP) {
      throw new ConfigException(at + ".protocol", "only TCP is supported upstream");
    }
    if (s.getAddress().isEmpty()) {
      throw new ConfigException(at + ".address", "must not be empty");
    }
    if (s.hasNamedPort() || s.getPortSpecifierCase() == SocketAddress.PortSpecifierCase.NAMED_PORT) {
      throw new ConfigException(at + ".named_port", "named ports are not supported");
    }
    return s;
  }

  /** A bind address: an IP literal, port 0 meaning any. */
  static InetSocketAddress bindAddress(SocketAddress s, String path) {
    int port = port(s, path + ".port_value", true);
    return new InetSocketAddress(ip(s.getAddress(), path + ".address"), port);
  }

  static int port(SocketAddress s, String path, boolean allowZero) {
    int port = s.getPortValue();
    if (port < (allowZero ? 0 : 1) || port > 65535) {
      throw new ConfigException(path, "must be between " + (allowZero ? 0 : 1) + " and 65535, got "
          + Integer.toUnsignedString(port));
    }
    return port;
  }

  static InetAddress ip(String literal, String path) {
    String bare = literal.startsWith("[") && literal.endsWith("]")
        ? literal.substring(1, literal.length() - 1) : literal;
    if (!InetAddresses.isInetAddress(bare)) {
      throw new ConfigException(path, "malformed IP address: " + literal);
    }
    return InetAddresses.forString(bare);
  }
}
