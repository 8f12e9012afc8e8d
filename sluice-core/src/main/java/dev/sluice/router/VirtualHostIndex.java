package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's virtual host selection by {@code :authority}: an exact (case-insensitive) domain first,
 * then suffix wildcards ({@code *.foo.com}, {@code *-bar.foo.com}) longest first, then prefix
 * wildcards ({@code foo.*}) longest first, then the {@code *} host. A wildcard must cover at least
 * one character. The port is part of the host as given ({@code reviews:9080} matches only a domain
 * {@code reviews:9080}, which is why Istio emits both forms) unless the route configuration sets
 * {@code ignore_port_in_host_matching}, which strips it before the lookup. Exact lookups hash the
 * header region directly, so 10,000 hosts cost one probe.
 */
final class VirtualHostIndex {
  private final CaseInsensitiveTable<VirtualHostEntry> exact;
  /** Suffix wildcard tables by suffix length, longest first. */
  private final int[] suffixLengths;
  private final List<CaseInsensitiveTable<VirtualHostEntry>> suffixes;
  private final int[] prefixLengths;
  private final List<CaseInsensitiveTable<VirtualHostEntry>> prefixes;
  private final @Nullable VirtualHostEntry defaultHost;
  private final boolean ignorePort;
  private final boolean onlyDefault;

  private VirtualHostIndex(
      CaseInsensitiveTable<VirtualHostEntry> exact,
      TreeMap<Integer, Map<String, VirtualHostEntry>> suffixes,
      TreeMap<Integer, Map<String, VirtualHostEntry>> prefixes,
      @Nullable VirtualHostEntry defaultHost,
      boolean ignorePort,
      boolean onlyDefault) {
    this.exact = exact;
    this.onlyDefault = onlyDefault;
    this.suffixLengths = suffixes.descendingKeySet().stream().mapToInt(Integer::intValue).toArray();
    this.suffixes = new ArrayList<>();
    for (int len : suffixLengths) {
      this.suffixes.add(new CaseInsensitiveTable<>(suffixes.get(len)));
    }
    this.prefixLengths = prefixes.descendingKeySet().stream().mapToInt(Integer::intValue).toArray();
    this.prefixes = new ArrayList<>();
    for (int len : prefixLengths) {
      this.prefixes.add(new CaseInsensitiveTable<>(prefixes.get(len)));
    }
    this.defaultHost = defaultHost;
    this.ignorePort = ignorePort;
  }

  static VirtualHostIndex build(
      List<VirtualHostEntry> hosts, List<List<String>> domains, String routeConfigName, boolean ignorePort) {
    Map<String, VirtualHostEntry> exact = new HashMap<>();
    TreeMap<Integer, Map<String, VirtualHostEntry>> suffixes = new TreeMap<>();
    TreeMap<Integer, Map<String, VirtualHostEntry>> prefixes = new TreeMap<>();
    VirtualHostEntry defaultHost = null;
    for (int h = 0; h < hosts.size(); h++) {
      VirtualHostEntry host = hosts.get(h);
      List<String> list = domains.get(h);
      if (list.isEmpty()) {
        throw new ConfigException("virtual_hosts[" + h + "].domains", "value must contain at least 1 item(s)");
      }
      for (int d = 0; d < list.size(); d++) {
        String domain = list.get(d).toLowerCase(Locale.ROOT);
        String path = "virtual_hosts[" + h + "].domains[" + d + "]";
        boolean duplicate;
        if (domain.isEmpty()) {
          throw new ConfigException(path, "domain must not be empty");
        } else if (domain.equals("*")) {
          if (defaultHost != null) {
            throw new ConfigException(path, "Only a single wildcard domain is permitted in route " + routeConfigName);
          }
          defaultHost = host;
          duplicate = false;
        } else if (domain.charAt(0) == '*') {
          String suffix = domain.substring(1);
          duplicate = suffixes.computeIfAbsent(suffix.length(), k -> new HashMap<>()).putIfAbsent(suffix, host) != null;
        } else if (domain.charAt(domain.length() - 1) == '*') {
          String prefix = domain.substring(0, domain.length() - 1);
          duplicate = prefixes.computeIfAbsent(prefix.length(), k -> new HashMap<>()).putIfAbsent(prefix, host) != null;
        } else {
          duplicate = exact.putIfAbsent(domain, host) != null;
        }
        if (duplicate) {
          throw new ConfigException(
              path,
              "Only unique values for domains are permitted. Duplicate entry of domain "
                  + domain
                  + " in route "
                  + routeConfigName);
        }
      }
    }
    return new VirtualHostIndex(
        new CaseInsensitiveTable<>(exact),
        suffixes,
        prefixes,
        defaultHost,
        ignorePort,
        exact.isEmpty() && suffixes.isEmpty() && prefixes.isEmpty());
  }

  /** The virtual host for this authority, or null (Envoy answers 404 with flag NR). */
  @Nullable VirtualHostEntry find(@Nullable CharSequence authority) {
    if (authority == null) {
      // Envoy: without an authority only a table holding nothing but the '*' host matches.
      return onlyDefault ? defaultHost : null;
    }
    int end = authority.length();
    if (ignorePort) {
      int port = RequestViews.portStart(authority);
      if (port >= 0) {
        end = port;
      }
    }
    VirtualHostEntry host = exact.get(authority, 0, end);
    if (host != null) {
      return host;
    }
    for (int i = 0; i < suffixLengths.length; i++) {
      int len = suffixLengths[i];
      if (len < end) {
        host = suffixes.get(i).get(authority, end - len, end);
        if (host != null) {
          return host;
        }
      }
    }
    for (int i = 0; i < prefixLengths.length; i++) {
      int len = prefixLengths[i];
      if (len < end) {
        host = prefixes.get(i).get(authority, 0, len);
        if (host != null) {
          return host;
        }
      }
    }
    return defaultHost;
  }
}
