package dev.sluice.stats;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Envoy's custom stat namespaces: an extension registers a first name token (Istio's stats filter
 * registers {@code istiocustom}) and Prometheus then shows that namespace's stats with the token
 * stripped and without the {@code envoy_} prefix ({@code istiocustom.istio_requests_total} is
 * {@code istio_requests_total}).
 */
public final class CustomStatNamespaces {
  private final Set<String> namespaces = ConcurrentHashMap.newKeySet();

  public void register(String namespace) {
    namespaces.add(namespace);
  }

  public boolean registered(String namespace) {
    return namespaces.contains(namespace);
  }

  /** The name after its first token when that token is a registered namespace. */
  public Optional<String> stripRegisteredPrefix(String name) {
    int dot = name.indexOf('.');
    if (dot < 0 || !namespaces.contains(name.substring(0, dot))) {
      return Optional.empty();
    }
    return Optional.of(name.substring(dot + 1));
  }
}
