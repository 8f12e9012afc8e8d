package dev.sluice.listener;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.network.DownstreamConnection;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilterChainMatchPredicate;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Compiles a listener filter's {@code filter_disabled} predicate (evaluated per connection). */
final class ListenerFilterPredicate {
  private ListenerFilterPredicate() {}

  static Predicate<DownstreamConnection> compile(ListenerFilterChainMatchPredicate p, String path) {
    return switch (p.getRuleCase()) {
      case OR_MATCH -> {
        List<Predicate<DownstreamConnection>> rules = rules(p.getOrMatch().getRulesList(), path + ".or_match");
        yield c -> rules.stream().anyMatch(r -> r.test(c));
      }
      case AND_MATCH -> {
        List<Predicate<DownstreamConnection>> rules = rules(p.getAndMatch().getRulesList(), path + ".and_match");
        yield c -> rules.stream().allMatch(r -> r.test(c));
      }
      case NOT_MATCH -> compile(p.getNotMatch(), path + ".not_match").negate();
      case ANY_MATCH -> c -> true;
      // [start, end), on the (possibly restored) destination port.
      case DESTINATION_PORT_RANGE -> {
        int start = (int) p.getDestinationPortRange().getStart();
        int end = (int) p.getDestinationPortRange().getEnd();
        yield c -> c.localAddress.getPort() >= start && c.localAddress.getPort() < end;
      }
      case RULE_NOT_SET -> throw new ConfigException(path, "a rule is required");
    };
  }

  private static List<Predicate<DownstreamConnection>> rules(List<ListenerFilterChainMatchPredicate> list, String path) {
    if (list.size() < 2) {
      throw new ConfigException(path + ".rules", "at least 2 rules are required");
    }
    List<Predicate<DownstreamConnection>> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      out.add(compile(list.get(i), path + ".rules[" + i + "]"));
    }
    return List.copyOf(out);
  }
}
