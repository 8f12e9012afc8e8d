package dev.sluice.api.stats;

/** A value that goes up and down (Envoy gauge). Safe to update from any worker thread. */
public interface Gauge {
  void inc();

  void dec();

  void add(long amount);

  void sub(long amount);

  void set(long value);

  long value();

  boolean used();

  String name();
}
