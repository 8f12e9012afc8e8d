package dev.sluice.lb;

import dev.sluice.api.upstream.Host;
import io.envoyproxy.envoy.config.core.v3.Locality;
import java.util.List;

/**
 * The hosts of one {@code LocalityLbEndpoints}: a priority, a locality and its
 * {@code load_balancing_weight} (0 when unset), as membership hands them to {@link PrioritySet}.
 */
public record LocalityGroup(int priority, Locality locality, int weight, List<Host> hosts) {
  public LocalityGroup {
    hosts = List.copyOf(hosts);
  }
}
