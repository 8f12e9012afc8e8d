package dev.sluice.http;

import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import java.util.ArrayList;
import java.util.List;

/**
 * A routing scope's key: its ordered fragments, compared as a whole (a scope matches a request
 * only when every fragment is equal, in order), so that the scope lookup is one hash lookup.
 */
/** @param fragments immutable */
public record ScopeKey(List<String> fragments) {
  /** The key of a {@code ScopedRouteConfiguration}. */
  public static ScopeKey of(ScopedRouteConfiguration.Key key) {
    List<String> fragments = new ArrayList<>(key.getFragmentsCount());
    key.getFragmentsList().forEach(f -> fragments.add(f.getStringKey()));
    return new ScopeKey(List.copyOf(fragments));
  }

  @Override
  public String toString() {
    return String.join(",", fragments);
  }
}
