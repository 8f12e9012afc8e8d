package dev.sluice.api.stats;

/**
 * Where a component creates its stats. Names are Envoy's dotted names; a scope prepends its prefix
 * ({@code scope("cluster.foo.").counter("upstream_rq_total")} is {@code cluster.foo.upstream_rq_total}).
 * Stats are resolved once at config time and held in fields; the hot path never calls these methods.
 * Asking twice for one name returns the same stat.
 */
public interface StatsScope {
  Counter counter(String name);

  Gauge gauge(String name);

  Histogram histogram(String name, Histogram.Unit unit);

  /** A child scope; {@code prefix} should end with '.' as Envoy's scope prefixes do. */
  StatsScope scope(String prefix);

  String prefix();
}
