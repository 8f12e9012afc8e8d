package dev.sluice.stats;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.Histogram;
import dev.sluice.api.stats.StatsScope;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * The root of all stats of one server. Creation (config time) goes through a concurrent map;
 * updates are lock-free: counters are {@link LongAdder}s (striped, so workers do not contend on
 * one cache line), gauges {@link AtomicLong}s, histograms HdrHistogram {@link Recorder}s whose
 * writers are wait-free.
 */
public final class StatsStore implements StatsScope {
  private final ConcurrentHashMap<String, CounterImpl> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, GaugeImpl> gauges = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, HistogramImpl> histograms = new ConcurrentHashMap<>();

  @Override
  public Counter counter(String name) {
    return counters.computeIfAbsent(name, CounterImpl::new);
  }

  @Override
  public Gauge gauge(String name) {
    return gauges.computeIfAbsent(name, GaugeImpl::new);
  }

  @Override
  public Histogram histogram(String name, Histogram.Unit unit) {
    return histograms.computeIfAbsent(name, n -> new HistogramImpl(n, unit));
  }

  @Override
  public StatsScope scope(String prefix) {
    return new PrefixedScope(this, prefix);
  }

  @Override
  public String prefix() {
    return "";
  }

  public List<CounterImpl> counters() {
    return new ArrayList<>(counters.values());
  }

  public List<GaugeImpl> gauges() {
    return new ArrayList<>(gauges.values());
  }

  public List<HistogramImpl> histograms() {
    return new ArrayList<>(histograms.values());
  }

  /** A counter backed by a striped adder. */
  public static final class CounterImpl implements Counter {
    private final String name;
    private final LongAdder adder = new LongAdder();
    private volatile boolean used;

    CounterImpl(String name) {
      this.name = name;
    }

    @Override
    public void inc() {
      adder.increment();
      if (!used) {
        used = true;
      }
    }

    @Override
    public void add(long amount) {
      adder.add(amount);
      if (!used) {
        used = true;
      }
    }

    @Override
    public long value() {
      return adder.sum();
    }

    @Override
    public boolean used() {
      return used;
    }

    @Override
    public String name() {
      return name;
    }
  }

  /** A gauge backed by an atomic long. */
  public static final class GaugeImpl implements Gauge {
    private final String name;
    private final AtomicLong value = new AtomicLong();
    private volatile boolean used;

    GaugeImpl(String name) {
      this.name = name;
    }

    private void markUsed() {
      if (!used) {
        used = true;
      }
    }

    @Override
    public void inc() {
      value.incrementAndGet();
      markUsed();
    }

    @Override
    public void dec() {
      value.decrementAndGet();
      markUsed();
    }

    @Override
    public void add(long amount) {
      value.addAndGet(amount);
      markUsed();
    }

    @Override
    public void sub(long amount) {
      value.addAndGet(-amount);
      markUsed();
    }

    @Override
    public void set(long v) {
      value.set(v);
      markUsed();
    }

    @Override
    public long value() {
      return value.get();
    }

    @Override
    public boolean used() {
      return used;
    }

    @Override
    public String name() {
      return name;
    }
  }

  /** A histogram whose writers are wait-free; readers take interval snapshots. */
  public static final class HistogramImpl implements Histogram {
    private final String name;
    private final Unit unit;
    private final Recorder recorder = new Recorder(3);
    private final org.HdrHistogram.Histogram cumulative = new org.HdrHistogram.Histogram(3);
    private volatile boolean used;

    HistogramImpl(String name, Unit unit) {
      this.name = name;
      this.unit = unit;
    }

    @Override
    public void record(long value) {
      recorder.recordValue(Math.max(0, value));
      if (!used) {
        used = true;
      }
    }

    @Override
    public String name() {
      return name;
    }

    public Unit unit() {
      return unit;
    }

    public boolean used() {
      return used;
    }

    /**
     * Folds what was recorded since the last call into the cumulative histogram and returns a copy
     * of it. Readers (admin, sinks) are serialised by this method's lock; writers never take it.
     */
    public synchronized org.HdrHistogram.Histogram cumulativeSnapshot() {
      cumulative.add(recorder.getIntervalHistogram());
      return cumulative.copy();
    }
  }

  private record PrefixedScope(StatsStore store, String prefix) implements StatsScope {
    @Override
    public Counter counter(String name) {
      return store.counter(prefix + name);
    }

    @Override
    public Gauge gauge(String name) {
      return store.gauge(prefix + name);
    }

    @Override
    public Histogram histogram(String name, Histogram.Unit unit) {
      return store.histogram(prefix + name, unit);
    }

    @Override
    public StatsScope scope(String childPrefix) {
      return new PrefixedScope(store, prefix + childPrefix);
    }
  }
}
