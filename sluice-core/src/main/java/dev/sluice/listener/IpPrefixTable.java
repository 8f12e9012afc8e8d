package dev.sluice.listener;

import com.google.common.net.InetAddresses;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Longest-prefix lookup over CIDR ranges: one hash map per distinct prefix length, probed from the
 * longest length down, so a lookup costs one masked hash probe per distinct length present (not a
 * scan of the ranges). Filled on the control thread, read-only afterwards.
 */
final class IpPrefixTable<V> {
  private final Family v4 = new Family(false);
  private final Family v6 = new Family(true);

  /**
   * The value stored for {@code range}, created by {@code create} when absent.
   *
   * @throws ConfigException when the address does not parse or the length exceeds the family's
   */
  V computeIfAbsent(CidrRange range, String path, Supplier<V> create) {
    InetAddress address;
    try {
      address = InetAddresses.forString(range.getAddressPrefix());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ".address_prefix", "malformed IP address: " + range.getAddressPrefix());
    }
    int length = range.hasPrefixLen() ? range.getPrefixLen().getValue() : address.getAddress().length * 8;
    if (length > address.getAddress().length * 8) {
      throw new ConfigException(path + ".prefix_len", "prefix length " + length + " too long for " + range.getAddressPrefix());
    }
    return (address instanceof Inet4Address ? v4 : v6).computeIfAbsent(address, length, create);
  }

  /** Both catch-all ranges {@code 0.0.0.0/0} and {@code ::/0} (a match without prefix ranges). */
  V computeCatchAll(Supplier<V> create) {
    V value = v4.computeIfAbsent(InetAddresses.forString("0.0.0.0"), 0, create);
    return v6.computeIfAbsent(InetAddresses.forString("::"), 0, () -> value);
  }

  @Nullable V longestMatch(InetAddress address) {
    return (address instanceof Inet4Address ? v4 : v6).longestMatch(address);
  }

  private record Key(long hi, long lo) {}

  private final class Family {
    private final boolean v6;
    private final HashMap<Integer, HashMap<Key, V>> byLength = new HashMap<>();
    private int[] lengthsDescending = new int[0];

    Family(boolean v6) {
      this.v6 = v6;
    }

    V computeIfAbsent(InetAddress address, int length, Supplier<V> create) {
      HashMap<Key, V> map = byLength.get(length);
      if (map == null) {
        map = new HashMap<>();
        byLength.put(length, map);
        lengthsDescending = byLength.keySet().stream().sorted((a, b) -> b - a).mapToInt(i -> i).toArray();
      }
      return map.computeIfAbsent(key(address.getAddress(), length), k -> create.get());
    }

    @Nullable V longestMatch(InetAddress address) {
      byte[] bytes = address.getAddress();
      for (int length : lengthsDescending) {
        V v = byLength.get(length).get(key(bytes, length));
        if (v != null) {
          return v;
        }
      }
      return null;
    }

    private Key key(byte[] bytes, int length) {
      long hi = 0;
      long lo = 0;
      if (v6) {
        for (int i = 0; i < 8; i++) {
          hi = (hi << 8) | (bytes[i] & 0xff);
          lo = (lo << 8) | (bytes[i + 8] & 0xff);
        }
        hi = length == 0 ? 0 : length >= 64 ? hi : hi & (-1L << (64 - length));
        lo = length <= 64 ? 0 : length == 128 ? lo : lo & (-1L << (128 - length));
      } else {
        for (int i = 0; i < 4; i++) {
          lo = (lo << 8) | (bytes[i] & 0xff);
        }
        lo = length == 0 ? 0 : lo & (0xffffffffL << (32 - length)) & 0xffffffffL;
      }
      return new Key(hi, lo);
    }
  }
}
