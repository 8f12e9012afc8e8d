package dev.sluice.rbac;

import com.google.common.net.InetAddresses;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import java.net.InetAddress;

/** A compiled {@code CidrRange}: the address's first {@code prefix_len} bits; other families never match. */
final class CidrMatcher {
  private final byte[] prefix;
  private final int bits;

  private CidrMatcher(byte[] prefix, int bits) {
    this.prefix = prefix;
    this.bits = bits;
  }

  static CidrMatcher compile(CidrRange c, String path) {
    InetAddress address;
    try {
      address = InetAddresses.forString(c.getAddressPrefix());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ".address_prefix", "malformed IP address: " + c.getAddressPrefix());
    }
    byte[] bytes = address.getAddress();
    int bits = c.hasPrefixLen() ? c.getPrefixLen().getValue() : bytes.length * 8;
    if (bits > bytes.length * 8) {
      throw new ConfigException(path + ".prefix_len", "prefix length " + bits + " exceeds " + bytes.length * 8 + " bits");
    }
    return new CidrMatcher(bytes, bits);
  }

  boolean matches(InetAddress address) {
    byte[] a = address.getAddress();
    if (a.length != prefix.length) {
      return false;
    }
    int full = bits / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != prefix[i]) {
        return false;
      }
    }
    int rest = bits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (a[full] & mask) == (prefix[full] & mask);
  }
}
