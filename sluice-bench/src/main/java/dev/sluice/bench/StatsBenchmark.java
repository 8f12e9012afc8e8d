package dev.sluice.bench;

import dev.sluice.api.stats.Counter;
import dev.sluice.api.stats.Gauge;
import dev.sluice.api.stats.Histogram;
import dev.sluice.stats.StatsStore;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * The stat updates every request makes, on metrics resolved once at config time (as the hot path
 * holds them): counter increments alone and from two worker threads at once, a gauge up and down,
 * and a latency histogram record.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StatsBenchmark {
  private Counter counter;
  private Gauge gauge;
  private Histogram histogram;
  private long sample;

  @Setup
  public void setUp() {
    StatsStore store = new StatsStore();
    var scope = store.scope("cluster.outbound|9080||reviews.default.svc.cluster.local.");
    counter = scope.counter("upstream_rq_total");
    gauge = scope.gauge("upstream_rq_active");
    histogram = scope.histogram("upstream_rq_time", Histogram.Unit.MILLISECONDS);
  }

  @Benchmark
  public void counterInc() {
    counter.inc();
  }

  /** Two workers bumping the same counter (every worker shares a cluster's counters). */
  @Benchmark
  @Threads(2)
  public void counterIncTwoThreads() {
    counter.inc();
  }

  @Benchmark
  public void gaugeIncDec() {
    gauge.inc();
    gauge.dec();
  }

  @Benchmark
  public void histogramRecord() {
    histogram.record(sample++ & 1023);
  }
}
