package dev.sluice.api.stats;

/**
 * A distribution of values (Envoy histogram). Durations are recorded in milliseconds, as Envoy
 * records {@code upstream_rq_time}; sizes in bytes.
 */
public interface Histogram {
  void record(long value);

  String name();

  /** What the recorded values measure; decides the default bucket boundaries. */
  enum Unit {
    MILLISECONDS,
    MICROSECONDS,
    BYTES,
    UNSPECIFIED
  }
}
