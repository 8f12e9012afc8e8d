package dev.sluice.accesslog;

import com.google.common.net.InetAddresses;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The address operators: {@code X_ADDRESS} ({@code ip:port}, IPv6 as {@code [ip]:port}),
 * {@code X_ADDRESS_WITHOUT_PORT(MASK_PREFIX_LEN)} (optionally masked, then in CIDR notation) and
 * {@code X_PORT} (a number in typed JSON). IPs print in RFC 5952 form as Envoy's inet_ntop does.
 */
final class AddressOperator extends CommandOperator {
  enum Part {
    FULL,
    WITHOUT_PORT,
    PORT
  }

  private final Function<StreamInfo, @Nullable InetSocketAddress> address;
  private final Part part;
  private final int maskBits;

  private AddressOperator(Function<StreamInfo, @Nullable InetSocketAddress> address, Part part, int maskBits) {
    this.address = address;
    this.part = part;
    this.maskBits = maskBits;
  }

  static AddressOperator of(
      String command, @Nullable String arg, Part part, Function<StreamInfo, @Nullable InetSocketAddress> address) {
    int mask = -1;
    if (arg != null && !arg.isEmpty()) {
      if (part != Part.WITHOUT_PORT) {
        throw new ConfigException("", command + " does not take an argument");
      }
      try {
        mask = Integer.parseInt(arg);
      } catch (NumberFormatException e) {
        mask = -2;
      }
      if (mask < 0 || mask > 128) {
        throw new ConfigException("", command + ": invalid MASK_PREFIX_LEN '" + arg + "'");
      }
    }
    return new AddressOperator(address, part, mask);
  }

  @Override
  boolean append(StreamInfo info, StringBuilder out) {
    InetSocketAddress a = address.apply(info);
    if (a == null) {
      return false;
    }
    if (part == Part.PORT) {
      out.append(a.getPort());
      return true;
    }
    InetAddress ip = a.getAddress();
    if (part == Part.WITHOUT_PORT) {
      if (ip == null) {
        out.append(a.getHostString());
      } else if (maskBits >= 0) {
        appendMasked(ip, maskBits, out);
      } else {
        out.append(InetAddresses.toAddrString(ip));
      }
      return true;
    }
    appendHostPort(a, out);
    return true;
  }

  @Override
  boolean numeric() {
    return part == Part.PORT;
  }

  static void appendHostPort(InetSocketAddress a, StringBuilder out) {
    InetAddress ip = a.getAddress();
    if (ip == null) {
      out.append(a.getHostString());
    } else if (ip instanceof Inet4Address) {
      out.append(InetAddresses.toAddrString(ip));
    } else {
      out.append('[').append(InetAddresses.toAddrString(ip)).append(']');
    }
    out.append(':').append(a.getPort());
  }

  private static void appendMasked(InetAddress ip, int bits, StringBuilder out) {
    byte[] b = ip.getAddress();
    int keep = Math.min(bits, b.length * 8);
    for (int i = 0; i < b.length; i++) {
      int bitsHere = Math.max(0, Math.min(8, keep - i * 8));
      b[i] &= (byte) (0xff << (8 - bitsHere));
    }
    try {
      out.append(InetAddresses.toAddrString(InetAddress.getByAddress(b))).append('/').append(keep);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e); // cannot happen: 4 or 16 bytes
    }
  }
}
