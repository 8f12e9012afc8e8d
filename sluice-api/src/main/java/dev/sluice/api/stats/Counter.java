package dev.sluice.api.stats;

/** A monotonically increasing count (Envoy counter). Safe to increment from any worker thread. */
public interface Counter {
  void inc();

  void add(long amount);

  long value();

  /** True once the counter has been incremented (Envoy's "used", for {@code /stats?usedonly}). */
  boolean used();

  String name();
}
