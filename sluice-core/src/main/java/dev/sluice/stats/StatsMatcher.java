package dev.sluice.stats;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.metrics.v3.StatsConfig;
import io.envoyproxy.envoy.type.matcher.v3.ListStringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@code stats_config.stats_matcher}: decides, when a stat is created, whether it is kept. Envoy
 * hands out a null stat for a rejected name; here the stat still works for the code that holds it
 * but is never shown by admin or sinks.
 */
public final class StatsMatcher {
  private enum Mode {
    ACCEPT_ALL,
    REJECT_ALL,
    INCLUSION,
    EXCLUSION
  }

  private final Mode mode;
  private final List<Predicate<String>> patterns;

  private StatsMatcher(Mode mode, List<Predicate<String>> patterns) {
    this.mode = mode;
    this.patterns = List.copyOf(patterns);
  }

  public static StatsMatcher acceptAll() {
    return new StatsMatcher(Mode.ACCEPT_ALL, List.of());
  }

  /** Field paths in errors are relative to {@code stats_config}. */
  public static StatsMatcher fromConfig(StatsConfig config) {
    if (!config.hasStatsMatcher()) {
      return acceptAll();
    }
    var m = config.getStatsMatcher();
    return switch (m.getStatsMatcherCase()) {
      case REJECT_ALL -> m.getRejectAll()
          ? new StatsMatcher(Mode.REJECT_ALL, List.of())
          : acceptAll();
      case INCLUSION_LIST -> new StatsMatcher(Mode.INCLUSION,
          compile(m.getInclusionList(), "stats_matcher.inclusion_list"));
      case EXCLUSION_LIST -> new StatsMatcher(Mode.EXCLUSION,
          compile(m.getExclusionList(), "stats_matcher.exclusion_list"));
      case STATSMATCHER_NOT_SET -> acceptAll();
    };
  }

  private static List<Predicate<String>> compile(ListStringMatcher list, String path) {
    List<Predicate<String>> out = new ArrayList<>();
    for (int i = 0; i < list.getPatternsCount(); i++) {
      try {
        out.add(StatNameMatcher.compile(list.getPatterns(i)));
      } catch (ConfigException e) {
        throw e.under(path + ".patterns[" + i + "]");
      }
    }
    return out;
  }

  /** True when a stat of this full name must not be shown. */
  public boolean rejects(String name) {
    return switch (mode) {
      case ACCEPT_ALL -> false;
      case REJECT_ALL -> true;
      case INCLUSION -> patterns.stream().noneMatch(p -> p.test(name));
      case EXCLUSION -> patterns.stream().anyMatch(p -> p.test(name));
    };
  }
}
