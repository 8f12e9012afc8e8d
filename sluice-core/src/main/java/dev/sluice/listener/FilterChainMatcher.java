package dev.sluice.listener;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's filter-chain selection, compiled once into a tree with one level per
 * {@link FilterChainMatch} criterion, in Envoy's order: destination port, destination IP, server
 * name, transport protocol, application protocols, direct source IP, source type, source IP,
 * source port. At each level the most specific entry present wins and the walk never backtracks:
 * a connection whose most specific branch fails further down matches nothing (as Envoy's
 * FilterChainManager). A lookup is a fixed number of hash probes, independent of the number of
 * chains.
 *
 * @param <T> the compiled filter chain
 */
public final class FilterChainMatcher<T> {
  private final Node<T> root;
  private final @Nullable T defaultChain;

  private FilterChainMatcher(Node<T> root, @Nullable T defaultChain) {
    this.root = root;
    this.defaultChain = defaultChain;
  }

  /** What a connection offers to matching. */
  public record Input(
      InetSocketAddress localAddress,
      InetSocketAddress directRemoteAddress,
      InetSocketAddress remoteAddress,
      @Nullable String serverName,
      String transportProtocol,
      List<String> applicationProtocols) {}

  /** The chain for a connection: a matching chain, else the default chain, else null. */
  public @Nullable T match(Input in) {
    T chain = find(in);
    return chain != null ? chain : defaultChain;
  }

  private @Nullable T find(Input in) {
    Node<T> n = root.exact.get(in.localAddress.getPort());
    if (n == null && (n = root.exact.get(0)) == null) {
      return null;
    }
    if ((n = n.ips.longestMatch(in.localAddress.getAddress())) == null) {
      return null;
    }
    if ((n = serverName(n, in.serverName)) == null) {
      return null;
    }
    if ((n = exactOrEmpty(n, in.transportProtocol)) == null) {
      return null;
    }
    if ((n = applicationProtocol(n, in.applicationProtocols)) == null) {
      return null;
    }
    if ((n = n.ips.longestMatch(in.directRemoteAddress.getAddress())) == null) {
      return null;
    }
    Node<T> bySourceType =
        n.sourceTypes.get(
            isSameIpOrLoopback(in) ? FilterChainMatch.ConnectionSourceType.SAME_IP_OR_LOOPBACK
                : FilterChainMatch.ConnectionSourceType.EXTERNAL);
    if (bySourceType == null && (bySourceType = n.sourceTypes.get(FilterChainMatch.ConnectionSourceType.ANY)) == null) {
      return null;
    }
    if ((n = bySourceType.ips.longestMatch(in.remoteAddress.getAddress())) == null) {
      return null;
    }
    Node<T> leaf = n.exact.get(in.remoteAddress.getPort());
    if (leaf == null && (leaf = n.exact.get(0)) == null) {
      return null;
    }
    return leaf.chain;
  }

  // Exact name, then wildcards from the longest suffix (".example.com" before ".com"), then none.
  private static <T> @Nullable Node<T> serverName(Node<T> n, @Nullable String serverName) {
    if (serverName != null && !serverName.isEmpty()) {
      Node<T> exact = n.exact.get(serverName);
      if (exact != null) {
        return exact;
      }
      for (int dot = serverName.indexOf('.', 1); dot >= 0 && dot < serverName.length() - 1; dot = serverName.indexOf('.', dot + 1)) {
        Node<T> wildcard = n.exact.get(serverName.substring(dot));
        if (wildcard != null) {
          return wildcard;
        }
      }
    }
    return n.exact.get("");
  }

  private static <T> @Nullable Node<T> exactOrEmpty(Node<T> n, String key) {
    Node<T> exact = n.exact.get(key);
    return exact != null ? exact : n.exact.get("");
  }

  private static <T> @Nullable Node<T> applicationProtocol(Node<T> n, List<String> protocols) {
    for (String p : protocols) {
      Node<T> exact = n.exact.get(p);
      if (exact != null) {
        return exact;
      }
    }
    return n.exact.get("");
  }

  private static boolean isSameIpOrLoopback(Input in) {
    InetAddress remote = in.remoteAddress.getAddress();
    return remote.isLoopbackAddress() || remote.equals(in.localAddress.getAddress());
  }

  /** Collects chains; {@link #build()} compiles them. */
  public static final class Builder<T> {
    private final String listenerName;
    private final Node<T> root = new Node<>();
    private final HashMap<Node<T>, String> leafNames = new HashMap<>();
    private @Nullable T defaultChain;

    /** @param listenerName for the duplicate-rule error, as Envoy names the listener */
    public Builder(String listenerName) {
      this.listenerName = listenerName;
    }

    /**
     * Adds a chain under every combination of its match's values.
     *
     * @param path the chain's field path, e.g. {@code filter_chains[3]}
     * @throws ConfigException when another chain has the same matching rules, or a value is bad
     */
    public Builder<T> add(FilterChainMatch m, String chainName, String path, T chain) {
      String mp = path + ".filter_chain_match";
      Node<T> ports = root.exactChild(m.hasDestinationPort() ? m.getDestinationPort().getValue() : 0);
      for (Node<T> ips : ranges(ports, m.getPrefixRangesList(), mp + ".prefix_ranges")) {
        for (String name : orEmpty(m.getServerNamesList())) {
          Node<T> names = ips.exactChild(serverNameKey(name, mp));
          Node<T> transports = names.exactChild(m.getTransportProtocol());
          for (String alpn : orEmpty(m.getApplicationProtocolsList())) {
            Node<T> alpns = transports.exactChild(alpn);
            for (Node<T> direct : ranges(alpns, m.getDirectSourcePrefixRangesList(), mp + ".direct_source_prefix_ranges")) {
              Node<T> type = direct.sourceTypes.computeIfAbsent(m.getSourceType(), k -> new Node<>());
              for (Node<T> sources : ranges(type, m.getSourcePrefixRangesList(), mp + ".source_prefix_ranges")) {
                for (int port : m.getSourcePortsList().isEmpty() ? List.of(0) : m.getSourcePortsList()) {
                  Node<T> leaf = sources.exactChild(port);
                  if (leaf.chain != null) {
                    throw new ConfigException(
                        path,
                        "error adding listener '" + listenerName + "': multiple filter chains with the same matching rules are defined ('"
                            + leafNames.get(leaf) + "' and '" + chainName + "')");
                  }
                  leaf.chain = chain;
                  leafNames.put(leaf, chainName);
                }
              }
            }
          }
        }
      }
      return this;
    }

    public Builder<T> defaultChain(T chain) {
      this.defaultChain = chain;
      return this;
    }

    public FilterChainMatcher<T> build() {
      return new FilterChainMatcher<>(root, defaultChain);
    }

    private static List<String> orEmpty(List<String> values) {
      return values.isEmpty() ? List.of("") : values;
    }

    // "*.example.com" is stored as ".example.com", the suffix the lookup probes; "*" alone is
    // rejected as Envoy does (a catch-all is expressed by listing no server names).
    private static String serverNameKey(String name, String path) {
      if (name.startsWith("*.")) {
        return name.substring(1).toLowerCase(Locale.ROOT);
      }
      if (name.contains("*")) {
        throw new ConfigException(path + ".server_names", "partial wildcards are not supported: " + name);
      }
      return name.toLowerCase(Locale.ROOT);
    }

    private List<Node<T>> ranges(Node<T> parent, List<CidrRange> ranges, String path) {
      if (ranges.isEmpty()) {
        return List.of(parent.ips.computeCatchAll(Node::new));
      }
      java.util.ArrayList<Node<T>> out = new java.util.ArrayList<>();
      for (int i = 0; i < ranges.size(); i++) {
        Node<T> n = parent.ips.computeIfAbsent(ranges.get(i), path + "[" + i + "]", Node::new);
        if (!out.contains(n)) {
          out.add(n);
        }
      }
      return out;
    }
  }

  /** One tree node; which field is used depends on the level. Read-only after build. */
  private static final class Node<T> {
    final HashMap<Object, Node<T>> exact = new HashMap<>();
    final IpPrefixTable<Node<T>> ips = new IpPrefixTable<>();
    final EnumMap<FilterChainMatch.ConnectionSourceType, Node<T>> sourceTypes = new EnumMap<>(FilterChainMatch.ConnectionSourceType.class);
    @Nullable T chain;

    Node<T> exactChild(Object key) {
      return exact.computeIfAbsent(key, k -> new Node<>());
    }
  }
}
