package dev.sluice.stats;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.metrics.v3.StatsConfig;
import io.envoyproxy.envoy.type.matcher.v3.ListStringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import org.junit.jupiter.api.Test;

class StatsMatcherTest {
  @Test
  void istioInclusionList() throws Exception {
    StatsMatcher m = StatsMatcher.fromConfig(IstioBootstrap.statsConfig());
    assertThat(m.rejects("cluster_manager.cds.update_success")).isFalse();
    assertThat(m.rejects("listener_manager.workers_started")).isFalse();
    assertThat(m.rejects("server.state")).isFalse();
    assertThat(m.rejects("cluster.xds-grpc.upstream_cx_total")).isFalse();
    assertThat(m.rejects("http.inbound_0.0.0.0_9080;.rbac.allowed")).isFalse();
    assertThat(m.rejects("vhost.reviews.route.r1.upstream_rq_200")).isFalse();
    assertThat(m.rejects("istiocustom.istio_requests_total")).isFalse();
    assertThat(m.rejects("cluster.outbound|9080||reviews.upstream_rq_total")).isTrue();
    assertThat(m.rejects("http.inbound.downstream_rq_total")).isTrue();
  }

  @Test
  void rejectAllAndExclusion() {
    assertThat(StatsMatcher.fromConfig(StatsConfig.newBuilder()
        .setStatsMatcher(io.envoyproxy.envoy.config.metrics.v3.StatsMatcher.newBuilder()
            .setRejectAll(true)).build()).rejects("server.live")).isTrue();
    StatsMatcher exclusion = StatsMatcher.fromConfig(StatsConfig.newBuilder()
        .setStatsMatcher(io.envoyproxy.envoy.config.metrics.v3.StatsMatcher.newBuilder()
            .setExclusionList(ListStringMatcher.newBuilder()
                .addPatterns(StringMatcher.newBuilder().setSuffix("_total").setIgnoreCase(true))))
        .build());
    assertThat(exclusion.rejects("a.B_TOTAL")).isTrue();
    assertThat(exclusion.rejects("a.active")).isFalse();
  }

  @Test
  void hiddenStatsStillCountButAreNotShown() throws Exception {
    StatsStore store = new StatsStore(IstioBootstrap.statsConfig());
    var hidden = store.counter("cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_total");
    hidden.inc();
    store.gauge("server.live").set(1);
    assertThat(hidden.value()).isEqualTo(1);
    assertThat(hidden.hidden()).isTrue();
    assertThat(TextStatsFormatter.format(store, StatsParams.defaults())).isEqualTo("server.live: 1\n");
  }
}
