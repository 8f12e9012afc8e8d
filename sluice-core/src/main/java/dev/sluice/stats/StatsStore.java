package dev.sluice.stats;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.Histogram;
import dev.sluice.api.stats.StatsScope;
import io.envoyproxy.envoy.config.metrics.v3.StatsConfig;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;
import org.jspecify.annotations.Nullable;

/**
 * The root of all stats of one server. Creation (config time) goes through a table whose lookups
 * are lock-free; tag extraction and the stats matcher run once per stat, on first use. Updates are
 * lock-free:
 * counters are {@link LongAdder}s (striped, so workers do not contend on one cache line), gauges
 * a volatile long, histograms HdrHistogram {@link Recorder}s whose writers are wait-free.
 *
 * <p>Memory, since a mesh has ~70 stats for each of thousands of clusters: a stat's name is kept
 * as its scope's prefix (one string shared by the scope's stats) and its own suffix (a literal,
 * shared by every scope), the stat itself is the table's entry ({@link StatTable}: no key, node or
 * full-name string), and a counter is its own {@link LongAdder}. Full names are built only when
 * shown.
 */
public final class StatsStore implements StatsScope {
  private final StatTable<CounterImpl> counters = new StatTable<>();
  private final StatTable<GaugeImpl> gauges = new StatTable<>();
  private final StatTable<HistogramImpl> histograms = new StatTable<>();
  private final TagProducer tagProducer;
  private final StatsMatcher matcher;
  private final HistogramBuckets buckets;
  private final CustomStatNamespaces customNamespaces = new CustomStatNamespaces();

  /** Envoy's behaviour without {@code stats_config}: default tags, every stat shown. */
  public StatsStore() {
    this(TagProducer.defaults(), StatsMatcher.acceptAll(), HistogramBuckets.defaults());
  }

  /**
   * From the bootstrap's {@code stats_config}; throws {@code ConfigException} with paths relative
   * to {@code stats_config}.
   */
  public StatsStore(StatsConfig config) {
    this(TagProducer.fromConfig(config), StatsMatcher.fromConfig(config),
        HistogramBuckets.fromConfig(config));
  }

  /**
   * A throwaway store for config built only to be validated: no tag extractors to compile, and
   * nothing in it is ever shown.
   */
  public static StatsStore scratch() {
    return new StatsStore(TagProducer.fromConfig(StatsConfig.newBuilder()
        .setUseAllDefaultTags(com.google.protobuf.BoolValue.of(false)).build()), StatsMatcher.acceptAll(),
        HistogramBuckets.defaults());
  }

  public StatsStore(TagProducer tagProducer, StatsMatcher matcher, HistogramBuckets buckets) {
    this.tagProducer = tagProducer;
    this.matcher = matcher;
    this.buckets = buckets;
  }

  @Override
  public CounterImpl counter(String name) {
    return counter("", name);
  }

  @Override
  public GaugeImpl gauge(String name) {
    return gauge("", name);
  }

  @Override
  public HistogramImpl histogram(String name, Histogram.Unit unit) {
    return histogram("", name, unit);
  }

  CounterImpl counter(String prefix, String suffix) {
    return counters.computeIfAbsent(prefix, suffix, (p, s) -> new CounterImpl(p, s, this));
  }

  GaugeImpl gauge(String prefix, String suffix) {
    return gauges.computeIfAbsent(prefix, suffix, (p, s) -> new GaugeImpl(p, s, this));
  }

  HistogramImpl histogram(String prefix, String suffix, Histogram.Unit unit) {
    return histograms.computeIfAbsent(prefix, suffix,
        (p, s) -> new HistogramImpl(p, s, this, unit, buckets.bucketsFor(StatName.concat(p, s))));
  }

  @Override
  public StatsScope scope(String prefix) {
    return new PrefixedScope(this, prefix);
  }

  @Override
  public String prefix() {
    return "";
  }

  /** Namespaces whose stats Prometheus shows without the {@code envoy_} prefix. */
  public CustomStatNamespaces customNamespaces() {
    return customNamespaces;
  }

  public List<CounterImpl> counters() {
    return counters.values();
  }

  public List<GaugeImpl> gauges() {
    return gauges.values();
  }

  public List<HistogramImpl> histograms() {
    return histograms.values();
  }

  /**
   * Envoy's periodic histogram merge ({@code stats_flush_interval}, 5 s by default): each
   * histogram's values since the last merge become its interval statistics and are folded into
   * its cumulative ones. Call from one control thread; admin shows the last merge.
   */
  public void mergeHistograms() {
    for (HistogramImpl h : histograms.values()) {
      h.merge();
    }
  }

  /** Envoy's tag extraction of a stat's name. */
  TaggedName tag(String name) {
    return tagProducer.produce(name);
  }

  /** 1 when {@code stats_config.stats_matcher} rejects the name, else 0. */
  byte hides(String name) {
    return (byte) (matcher.rejects(name) ? 1 : 0);
  }

  /**
   * Common view of the three stat kinds for the formatters. A stat's full name is its scope's
   * shared prefix and its suffix ({@link StatName}); its tag-extracted name and tags, and whether
   * the stats matcher hides it, are worked out on first use (admin, sinks), not when the stat is
   * created: tag extraction runs several regexes per name, and creating the ~70 stats of each of
   * 10,000 clusters must stay cheap. Concurrent first uses compute the same value.
   */
  public sealed interface Metric permits CounterImpl, NamedStat {
    /** The scope's prefix part of the name (shared by the scope's stats). */
    String namePrefix();

    /** The rest of the name. */
    String nameSuffix();

    boolean used();

    String name();

    TaggedName taggedName();

    /** True when {@code stats_config.stats_matcher} rejects the stat: it counts but is never shown. */
    boolean hidden();

    default String tagExtractedName() {
      return taggedName().tagExtractedName();
    }

    default List<Tag> tags() {
      return taggedName().tags();
    }
  }

  /** A counter: a striped adder itself (one object per counter, not two). */
  public static final class CounterImpl extends LongAdder implements Counter, Metric {
    private final String prefix;
    private final String suffix;
    private final StatsStore store;
    private volatile @Nullable TaggedName taggedName;
    private volatile byte hidden = -1;
    private volatile boolean used;

    CounterImpl(String prefix, String suffix, StatsStore store) {
      this.prefix = prefix;
      this.suffix = suffix;
      this.store = store;
    }

    @Override
    public void inc() {
      increment();
      if (!used) {
        used = true;
      }
    }

    @Override
    public void add(long amount) {
      super.add(amount);
      if (!used) {
        used = true;
      }
    }

    @Override
    public long value() {
      return sum();
    }

    @Override
    public boolean used() {
      return used;
    }

    @Override
    public String name() {
      return StatName.concat(prefix, suffix);
    }

    @Override
    public String namePrefix() {
      return prefix;
    }

    @Override
    public String nameSuffix() {
      return suffix;
    }

    @Override
    public TaggedName taggedName() {
      TaggedName t = taggedName;
      if (t == null) {
        t = store.tag(name());
        taggedName = t;
      }
      return t;
    }

    @Override
    public boolean hidden() {
      byte h = hidden;
      if (h < 0) {
        h = store.hides(name());
        hidden = h;
      }
      return h == 1;
    }
  }

  /**
   * The naming half of a gauge and a histogram: the scope's shared prefix plus a suffix, with the
   * tagged name and the stats_matcher verdict worked out on first use. (A counter repeats it: it
   * must extend {@link LongAdder} to stay one object.)
   */
  abstract static sealed class NamedStat implements Metric permits GaugeImpl, HistogramImpl {
    private final String prefix;
    private final String suffix;
    private final StatsStore store;
    private volatile @Nullable TaggedName taggedName;
    private volatile byte hidden = -1;

    NamedStat(String prefix, String suffix, StatsStore store) {
      this.prefix = prefix;
      this.suffix = suffix;
      this.store = store;
    }

    @Override
    public String name() {
      return StatName.concat(prefix, suffix);
    }

    @Override
    public String namePrefix() {
      return prefix;
    }

    @Override
    public String nameSuffix() {
      return suffix;
    }

    @Override
    public TaggedName taggedName() {
      TaggedName t = taggedName;
      if (t == null) {
        t = store.tag(name());
        taggedName = t;
      }
      return t;
    }

    @Override
    public boolean hidden() {
      byte h = hidden;
      if (h < 0) {
        h = store.hides(name());
        hidden = h;
      }
      return h == 1;
    }
  }

  /** A gauge: a volatile long updated atomically (no separate AtomicLong per gauge). */
  public static final class GaugeImpl extends NamedStat implements Gauge {
    private static final VarHandle VALUE;

    static {
      try {
        VALUE = MethodHandles.lookup().findVarHandle(GaugeImpl.class, "value", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    @SuppressWarnings("unused") // through VALUE
    private volatile long value;
    private volatile boolean used;

    GaugeImpl(String prefix, String suffix, StatsStore store) {
      super(prefix, suffix, store);
    }

    private void markUsed() {
      if (!used) {
        used = true;
      }
    }

    @Override
    public void inc() {
      VALUE.getAndAdd(this, 1L);
      markUsed();
    }

    @Override
    public void dec() {
      VALUE.getAndAdd(this, -1L);
      markUsed();
    }

    @Override
    public void add(long amount) {
      VALUE.getAndAdd(this, amount);
      markUsed();
    }

    @Override
    public void sub(long amount) {
      VALUE.getAndAdd(this, -amount);
      markUsed();
    }

    @Override
    public void set(long v) {
      value = v;
      markUsed();
    }

    @Override
    public long value() {
      return value;
    }

    @Override
    public boolean used() {
      return used;
    }
  }

  /** A histogram whose writers are wait-free; statistics are refreshed by {@link #merge()}. */
  public static final class HistogramImpl extends NamedStat implements Histogram {
    private final Unit unit;
    private final List<Double> supportedBuckets;
    /**
     * Made on the first value: an HdrHistogram pair costs tens of KiB, and most of the histograms
     * of 10,000 clusters never see a value.
     */
    private volatile @Nullable Recorder recorder;
    private org.HdrHistogram.@Nullable Histogram cumulative;
    private org.HdrHistogram.@Nullable Histogram recycled;
    private volatile HistogramStatistics intervalStatistics;
    private volatile HistogramStatistics cumulativeStatistics;
    private volatile boolean used;

    HistogramImpl(String prefix, String suffix, StatsStore store, Unit unit, List<Double> supportedBuckets) {
      super(prefix, suffix, store);
      this.unit = unit;
      this.supportedBuckets = supportedBuckets;
      this.intervalStatistics = HistogramStatistics.empty(supportedBuckets);
      this.cumulativeStatistics = intervalStatistics;
    }

    @Override
    public void record(long value) {
      Recorder r = recorder;
      if (r == null) {
        r = firstRecorder();
      }
      r.recordValue(Math.max(0, value));
      if (!used) {
        used = true;
      }
    }

    private synchronized Recorder firstRecorder() {
      Recorder r = recorder;
      if (r == null) {
        r = new Recorder(3);
        recorder = r;
      }
      return r;
    }

    public Unit unit() {
      return unit;
    }

    @Override
    public boolean used() {
      return used;
    }

    /** Values recorded between the last two merges. */
    public HistogramStatistics intervalStatistics() {
      return intervalStatistics;
    }

    /** Every value recorded up to the last merge. */
    public HistogramStatistics cumulativeStatistics() {
      return cumulativeStatistics;
    }

    /**
     * Takes what was recorded since the last merge as the new interval and folds it into the
     * cumulative histogram. Readers are serialised by this lock; writers never take it.
     */
    public synchronized void merge() {
      Recorder r = recorder;
      if (r == null) {
        return;
      }
      org.HdrHistogram.Histogram interval = r.getIntervalHistogram(recycled);
      org.HdrHistogram.Histogram c = cumulative;
      if (c == null) {
        c = new org.HdrHistogram.Histogram(3);
        cumulative = c;
      }
      c.add(interval);
      intervalStatistics = HistogramStatistics.of(interval, supportedBuckets);
      cumulativeStatistics = HistogramStatistics.of(c, supportedBuckets);
      recycled = interval;
    }
  }

  private record PrefixedScope(StatsStore store, String prefix) implements StatsScope {
    @Override
    public Counter counter(String name) {
      return store.counter(prefix, name);
    }

    @Override
    public Gauge gauge(String name) {
      return store.gauge(prefix, name);
    }

    @Override
    public Histogram histogram(String name, Histogram.Unit unit) {
      return store.histogram(prefix, name, unit);
    }

    @Override
    public StatsScope scope(String childPrefix) {
      return new PrefixedScope(store, prefix + childPrefix);
    }
  }
}
