package dev.sluice.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.api.stats.Histogram;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StatsFormattersTest {
  private StatsStore store;

  @BeforeEach
  void setUp() {
    store = new StatsStore();
    store.counter("cluster.c2.upstream_rq_total").inc();
    store.counter("cluster.c1.upstream_rq_total").add(5);
    store.counter("cluster.c1.upstream_cx_total"); // never written
    store.gauge("server.live").set(1);
    Histogram h = store.histogram("cluster.c1.upstream_rq_time", Histogram.Unit.MILLISECONDS);
    h.record(5);
    h.record(50);
    store.histogram("cluster.c1.upstream_cx_length_ms", Histogram.Unit.MILLISECONDS);
    store.mergeHistograms();
  }

  private static StatsParams params(Map<String, String> query) throws Exception {
    return StatsParams.parse(query);
  }

  @Test
  void textSortsCountersAndGaugesThenHistograms() {
    assertThat(TextStatsFormatter.format(store, StatsParams.defaults())).isEqualTo("""
        cluster.c1.upstream_cx_total: 0
        cluster.c1.upstream_rq_total: 5
        cluster.c2.upstream_rq_total: 1
        server.live: 1
        cluster.c1.upstream_cx_length_ms: No recorded values
        cluster.c1.upstream_rq_time: P0(5,5) P25(5,5) P50(5,5) P75(50,50) P90(50,50) \
        P95(50,50) P99(50,50) P99.5(50,50) P99.9(50,50) P100(50,50)
        """);
  }

  @Test
  void intervalIsOnlyTheLastMerge() throws Exception {
    store.histogram("cluster.c1.upstream_rq_time", Histogram.Unit.MILLISECONDS).record(7);
    store.mergeHistograms();
    String text = TextStatsFormatter.format(store, params(Map.of("filter", "rq_time$")));
    assertThat(text).startsWith("cluster.c1.upstream_rq_time: P0(7,5) ")
        .endsWith(" P100(7,50)\n");
  }

  @Test
  void usedOnlyFilterAndType() throws Exception {
    assertThat(TextStatsFormatter.format(store, params(Map.of("usedonly", "", "filter", "c1"))))
        .isEqualTo("""
            cluster.c1.upstream_rq_total: 5
            cluster.c1.upstream_rq_time: P0(5,5) P25(5,5) P50(5,5) P75(50,50) P90(50,50) \
            P95(50,50) P99(50,50) P99.5(50,50) P99.9(50,50) P100(50,50)
            """);
    assertThat(TextStatsFormatter.format(store, params(Map.of("type", "Gauges"))))
        .isEqualTo("server.live: 1\n");
  }

  @Test
  void histogramBucketsInText() throws Exception {
    String text = TextStatsFormatter.format(store,
        params(Map.of("type", "Histograms", "usedonly", "", "histogram_buckets", "cumulative")));
    assertThat(text).startsWith("cluster.c1.upstream_rq_time: B0.5(0,0) B1(0,0) B5(1,1) B10(1,1) "
        + "B25(1,1) B50(2,2) B100(2,2)").endsWith(" B3600000(2,2)\n");
    String disjoint = TextStatsFormatter.format(store,
        params(Map.of("type", "Histograms", "usedonly", "", "histogram_buckets", "disjoint")));
    assertThat(disjoint).startsWith("cluster.c1.upstream_rq_time: B0.5(0,0) B1(0,0) B5(1,1) "
        + "B10(0,0) B25(0,0) B50(1,1) B100(0,0)");
  }

  @Test
  void json() throws Exception {
    assertThat(JsonStatsFormatter.format(store, params(Map.of("filter", "c2|live"))))
        .isEqualTo("{\"stats\":[{\"name\":\"cluster.c2.upstream_rq_total\",\"value\":1},"
            + "{\"name\":\"server.live\",\"value\":1}]}");
    String withHistogram = JsonStatsFormatter.format(store, params(Map.of("filter", "length")));
    assertThat(withHistogram).isEqualTo("{\"stats\":[{\"histograms\":{\"supported_quantiles\":"
        + "[0,25,50,75,90,95,99,99.5,99.9,100],\"computed_quantiles\":[{\"name\":"
        + "\"cluster.c1.upstream_cx_length_ms\",\"values\":["
        + "{\"cumulative\":null,\"interval\":null},".repeat(9)
        + "{\"cumulative\":null,\"interval\":null}]}]}}]}");
    assertThat(JsonStatsFormatter.format(store, params(Map.of("filter", "^nothing$"))))
        .isEqualTo("{\"stats\":[]}");
  }

  @Test
  void prometheus() throws Exception {
    String out = PrometheusStatsFormatter.format(store, params(Map.of("usedonly", "")));
    assertThat(out).isEqualTo("""
        # TYPE envoy_cluster_upstream_rq_total counter
        envoy_cluster_upstream_rq_total{envoy_cluster_name="c1"} 5
        envoy_cluster_upstream_rq_total{envoy_cluster_name="c2"} 1
        # TYPE envoy_server_live gauge
        envoy_server_live{} 1
        # TYPE envoy_cluster_upstream_rq_time histogram
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="0.5"} 0
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="1"} 0
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="5"} 1
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="10"} 1
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="25"} 1
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="50"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="100"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="250"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="500"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="1000"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="2500"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="5000"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="10000"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="30000"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="60000"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="300000"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="600000"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="1800000"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="3600000"} 2
        envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="c1",le="+Inf"} 2
        envoy_cluster_upstream_rq_time_sum{envoy_cluster_name="c1"} 55
        envoy_cluster_upstream_rq_time_count{envoy_cluster_name="c1"} 2
        """);
  }

  @Test
  void prometheusEscapesAndHonoursCustomNamespaces() throws Exception {
    StatsStore s = new StatsStore();
    s.customNamespaces().register("istiocustom");
    s.counter("istiocustom.istio_requests_total").add(3);
    s.counter("istiocustom.9bad").inc();
    s.gauge("my-gauge.with@odd").set(2);
    // A tag value with a quote, a backslash and a newline, from a fixed-value-like cluster name.
    s.counter("cluster.a\"b\\c\nd.upstream_rq_total").inc();
    String out = PrometheusStatsFormatter.format(s, StatsParams.defaults());
    assertThat(out).isEqualTo("""
        # TYPE envoy_cluster_upstream_rq_total counter
        envoy_cluster_upstream_rq_total{envoy_cluster_name="a\\"b\\\\c\\nd"} 1
        # TYPE istio_requests_total counter
        istio_requests_total{} 3
        # TYPE envoy_my_gauge_with_odd gauge
        envoy_my_gauge_with_odd{} 2
        """);
  }

  @Test
  void prometheusSummaryAndFilter() throws Exception {
    String out = PrometheusStatsFormatter.format(store,
        params(Map.of("filter", "rq_time", "histogram_buckets", "summary")));
    assertThat(out).isEqualTo("""
        # TYPE envoy_cluster_upstream_rq_time summary
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="0"} 5
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="0.25"} 5
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="0.5"} 5
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="0.75"} 50
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="0.9"} 50
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="0.95"} 50
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="0.99"} 50
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="0.995"} 50
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="0.999"} 50
        envoy_cluster_upstream_rq_time{envoy_cluster_name="c1",quantile="1"} 50
        envoy_cluster_upstream_rq_time_sum{envoy_cluster_name="c1"} 55
        envoy_cluster_upstream_rq_time_count{envoy_cluster_name="c1"} 2
        """);
  }

  @Test
  void badParamsCarryEnvoysMessages() {
    assertThatThrownBy(() -> params(Map.of("filter", "(")))
        .hasMessage("Invalid re2 regex");
    assertThatThrownBy(() -> params(Map.of("type", "Bogus")))
        .hasMessage("invalid &type= param");
    assertThatThrownBy(() -> params(Map.of("format", "xml")))
        .hasMessageStartingWith("usage: /stats?format=");
  }

  @Test
  void numbersAsEnvoyPrintsThem() {
    assertThat(EnvoyNumbers.shortest(99.5)).isEqualTo("99.5");
    assertThat(EnvoyNumbers.shortest(Double.NaN)).isEqualTo("nan");
    assertThat(EnvoyNumbers.g32(0.1)).isEqualTo("0.10000000000000000555111512312578");
    assertThat(EnvoyNumbers.jsonNumber(1234567.0)).isEqualTo("1.23457e+06");
    assertThat(EnvoyNumbers.jsonNumber(5.05)).isEqualTo("5.05");
  }
}
