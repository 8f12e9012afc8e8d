package dev.sluice.stats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.api.stats.Histogram;
import org.junit.jupiter.api.Test;

/**
 * A stat's name is kept as its scope's prefix and its own suffix: the same full name reached
 * through any split (root, nested scopes, a suffix with dots) must be one stat, shown by its full name.
 */
class StatsStoreNamesTest {
  private final StatsStore store = new StatsStore();

  @Test
  void sameFullNameThroughAnySplitIsOneStat() {
    var viaScope = store.scope("cluster.a.b.").counter("upstream_rq_total");
    viaScope.inc();
    assertThat(store.counter("cluster.a.b.upstream_rq_total")).isSameAs(viaScope);
    assertThat(store.scope("cluster.").scope("a.").counter("b.upstream_rq_total")).isSameAs(viaScope);
    assertThat(store.scope("cluster.a.b.").counter("upstream_rq_totals")).isNotSameAs(viaScope);
    assertThat(store.counters()).extracting(StatsStore.CounterImpl::name)
        .containsExactlyInAnyOrder("cluster.a.b.upstream_rq_total", "cluster.a.b.upstream_rq_totals");
    assertThat(store.counter("cluster.a.b.upstream_rq_total").value()).isEqualTo(1);
  }

  @Test
  void gaugesAndHistogramsKeyTheSameWay() {
    var g = store.scope("listener.x.").gauge("downstream_cx_active");
    g.add(5);
    g.dec();
    assertThat(store.gauge("listener.x.downstream_cx_active")).isSameAs(g);
    assertThat(g.value()).isEqualTo(4);
    var h = store.scope("cluster.c.").histogram("upstream_rq_time", Histogram.Unit.MILLISECONDS);
    assertThat(store.histogram("cluster.c.upstream_rq_time", Histogram.Unit.MILLISECONDS)).isSameAs(h);
    assertThat(store.histograms()).extracting(StatsStore.HistogramImpl::name).containsExactly("cluster.c.upstream_rq_time");
  }

  @Test
  void tagsAreExtractedFromTheFullName() {
    store.scope("cluster.backend.").counter("upstream_rq_total");
    var c = store.counter("cluster.backend.upstream_rq_total");
    assertThat(c.tagExtractedName()).isEqualTo("cluster.upstream_rq_total");
    assertThat(c.tags()).extracting(Tag::value).containsExactly("backend");
  }
}
