package dev.sluice.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The stats table: growth keeps every stat findable, and racing creators get one stat per name. */
class StatTableTest {
  private final StatsStore store = new StatsStore();

  @Test
  void everyStatStaysFindableThroughGrowth() {
    List<StatsStore.CounterImpl> made = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      made.add(store.counter("cluster.c" + i + ".", "upstream_rq_total"));
    }
    for (int i = 0; i < 5_000; i++) {
      assertThat(store.counter("cluster.c" + i + ".upstream_rq_total")).isSameAs(made.get(i));
    }
    assertThat(store.counters()).hasSize(5_000).containsExactlyInAnyOrderElementsOf(made);
  }

  @Test
  void concurrentCreatorsShareOneStatPerName() throws Exception {
    int threads = 4;
    var pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<List<StatsStore.GaugeImpl>>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(pool.submit(() -> {
          start.await();
          List<StatsStore.GaugeImpl> got = new ArrayList<>();
          for (int i = 0; i < 2_000; i++) {
            got.add(store.gauge("s" + i + ".", "g"));
          }
          return got;
        }));
      }
      start.countDown();
      List<StatsStore.GaugeImpl> first = results.get(0).get();
      for (Future<List<StatsStore.GaugeImpl>> f : results) {
        List<StatsStore.GaugeImpl> got = f.get();
        for (int i = 0; i < got.size(); i++) {
          assertThat(got.get(i)).isSameAs(first.get(i));
        }
      }
      Set<String> names = new HashSet<>();
      store.gauges().forEach(g -> names.add(g.name()));
      assertThat(store.gauges()).hasSize(2_000);
      assertThat(names).hasSize(2_000).contains("s0.g", "s1999.g");
    } finally {
      pool.shutdownNow();
    }
  }
}
