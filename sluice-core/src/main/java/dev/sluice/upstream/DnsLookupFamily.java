package dev.sluice.upstream;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;

/** Envoy's {@code dns_lookup_family} applied to a resolver's answer. */
final class DnsLookupFamily {
  private DnsLookupFamily() {}

  static List<InetAddress> filter(Cluster.DnsLookupFamily family, List<InetAddress> all) {
    List<InetAddress> v4 = all.stream().filter(a -> a instanceof Inet4Address).toList();
    List<InetAddress> v6 = all.stream().filter(a -> a instanceof Inet6Address).toList();
    return switch (family) {
      case V4_ONLY -> v4;
      case V6_ONLY -> v6;
      // AUTO: IPv6 answers when there are any, else IPv4.
      case AUTO -> v6.isEmpty() ? v4 : v6;
      case V4_PREFERRED -> v4.isEmpty() ? v6 : v4;
      case ALL, UNRECOGNIZED -> all;
    };
  }
}
