package dev.sluice.mesh.xds;

import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServicePort;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The domains of a service's virtual host, as istiod's {@code generateVirtualHostDomains}: the
 * FQDN, then the shorter names a client in the proxy's namespace may use ({@code reviews},
 * {@code reviews.default}, {@code reviews.default.svc}; the bare name only for a service of the
 * proxy's own namespace, as Kubernetes DNS resolves it), then the VIP; each with and without the port.
 */
final class Domains {
  private Domains() {}

  /** Names of the route config {@code <port>} (transparent mode): each name bare and with {@code :port}. */
  static List<String> forPort(MeshService s, ServicePort p, String proxyNamespace) {
    List<String> out = new ArrayList<>();
    for (String name : names(s, proxyNamespace)) {
      out.add(name);
      out.add(name + ":" + p.port());
    }
    return out;
  }

  /**
   * Names of the HTTP proxy route config, where every port shares one route config: always with
   * {@code :port}; bare too for port 80, which a {@code Host} header without a port means.
   */
  static List<String> forHttpProxy(MeshService s, ServicePort p, String proxyNamespace) {
    List<String> out = new ArrayList<>();
    for (String name : names(s, proxyNamespace)) {
      if (p.port() == 80) {
        out.add(name);
      }
      out.add(name + ":" + p.port());
    }
    return out;
  }

  private static Set<String> names(MeshService s, String proxyNamespace) {
    Set<String> names = new LinkedHashSet<>();
    names.add(s.hostname());
    String kubeSuffix = "." + s.namespace() + ".svc.cluster.local";
    if (s.hostname().endsWith(kubeSuffix)) {
      String shortName = s.hostname().substring(0, s.hostname().length() - kubeSuffix.length());
      if (s.namespace().equals(proxyNamespace)) {
        names.add(shortName);
      }
      names.add(shortName + "." + s.namespace());
      names.add(shortName + "." + s.namespace() + ".svc");
    }
    if (s.vip() != null && !s.vip().isEmpty()) {
      names.add(s.vip());
    }
    return names;
  }

  /** Whether a VirtualService host is served by a gateway server's hosts ({@code *}, {@code ns/host}, {@code *.example.com}). */
  static boolean hostAllowed(String vsHost, Set<String> serverHosts) {
    for (String raw : serverHosts) {
      String h = raw.contains("/") ? raw.substring(raw.indexOf('/') + 1) : raw;
      if (h.equals("*") || h.equals(vsHost) || vsHost.equals("*")
          || (h.startsWith("*.") && vsHost.endsWith(h.substring(1)))) {
        return true;
      }
    }
    return false;
  }
}
