package dev.sluice.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.BoolValue;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.metrics.v3.StatsConfig;
import io.envoyproxy.envoy.config.metrics.v3.TagSpecifier;
import java.util.List;
import org.junit.jupiter.api.Test;

class TagProducerTest {
  private final TagProducer defaults = TagProducer.defaults();

  @Test
  void clusterNameIsOneTokenWithDefaultTags() {
    TaggedName t = defaults.produce("cluster.outbound|9080||reviews.upstream_rq_total");
    assertThat(t.tagExtractedName()).isEqualTo("cluster.upstream_rq_total");
    assertThat(t.tags()).containsExactly(new Tag("envoy.cluster_name", "outbound|9080||reviews"));
  }

  @Test
  void responseCodeAndClusterTogether() {
    TaggedName t = defaults.produce("cluster.backend.upstream_rq_503");
    assertThat(t.tagExtractedName()).isEqualTo("cluster.upstream_rq");
    assertThat(t.tags()).containsExactly(
        new Tag("envoy.response_code", "503"), new Tag("envoy.cluster_name", "backend"));

    TaggedName c = defaults.produce("cluster.backend.upstream_rq_5xx");
    assertThat(c.tagExtractedName()).isEqualTo("cluster.upstream_rq_xx");
    assertThat(c.tags()).containsExactly(
        new Tag("envoy.response_code_class", "5"), new Tag("envoy.cluster_name", "backend"));
  }

  @Test
  void listenerAddressAndHttpPrefix() {
    TaggedName t = defaults.produce("listener.127.0.0.1_15006.http.inbound_0.0.0.0_9080.downstream_rq_2xx");
    // Envoy's prefix value is [^.]+, so a dotted stat_prefix yields only its first token.
    assertThat(t.tags()).containsExactly(
        new Tag("envoy.response_code_class", "2"),
        new Tag("envoy.http_conn_manager_prefix", "inbound_0"),
        new Tag("envoy.listener_address", "127.0.0.1_15006"));
    assertThat(t.tagExtractedName()).isEqualTo("listener.http.0.0.0_9080.downstream_rq_xx");

    TaggedName h = defaults.produce("http.ingress_http.downstream_rq_total");
    assertThat(h.tagExtractedName()).isEqualTo("http.downstream_rq_total");
    assertThat(h.tags()).containsExactly(new Tag("envoy.http_conn_manager_prefix", "ingress_http"));

    TaggedName l = defaults.produce("listener.0.0.0.0_8080.http.ingress.downstream_rq_completed");
    assertThat(l.tagExtractedName()).isEqualTo("listener.http.downstream_rq_completed");
    assertThat(l.tags()).containsExactlyInAnyOrder(
        new Tag("envoy.http_conn_manager_prefix", "ingress"),
        new Tag("envoy.listener_address", "0.0.0.0_8080"));
  }

  @Test
  void adminListenerIsNotAnAddressAndWorkerIdIsExtracted() {
    assertThat(defaults.produce("listener.admin.downstream_cx_total").tags()).isEmpty();
    TaggedName w = defaults.produce("listener_manager.worker_3.dispatcher.loop_duration_us");
    assertThat(w.tagExtractedName()).isEqualTo("listener_manager.worker_dispatcher.loop_duration_us");
    assertThat(w.tags()).containsExactly(new Tag("envoy.worker_id", "3"));
  }

  @Test
  void rdsRouteConfigKeepsDotsAndVhostRoute() {
    TaggedName r = defaults.produce("http.inbound.rds.9080.config_reload");
    assertThat(r.tagExtractedName()).isEqualTo("http.rds.config_reload");
    assertThat(r.tags()).containsExactlyInAnyOrder(
        new Tag("envoy.http_conn_manager_prefix", "inbound"),
        new Tag("envoy.rds_route_config", "9080"));
    TaggedName v = defaults.produce("vhost.reviews.route.r1.upstream_rq_200");
    assertThat(v.tagExtractedName()).isEqualTo("vhost.route.upstream_rq");
    assertThat(v.tags()).extracting(Tag::name).containsExactlyInAnyOrder(
        "envoy.response_code", "envoy.virtual_host", "envoy.route");
  }

  @Test
  void istioBootstrapTagsWithAltStatName() throws Exception {
    TagProducer istio = TagProducer.fromConfig(IstioBootstrap.statsConfig());
    // Istio sets alt_stat_name "outbound|9080||reviews.default.svc.cluster.local;" on clusters.
    TaggedName t = istio.produce(
        "cluster.outbound|9080||reviews.default.svc.cluster.local;.upstream_rq_total");
    assertThat(t.tagExtractedName()).isEqualTo("cluster.upstream_rq_total");
    assertThat(t.tags()).containsExactly(
        new Tag("cluster_name", "outbound|9080||reviews.default.svc.cluster.local"));

    TaggedName code = istio.produce("cluster.xds-grpc;.upstream_rq_200");
    assertThat(code.tagExtractedName()).isEqualTo("cluster.upstream_rq");
    assertThat(code.tags()).containsExactly(
        new Tag("cluster_name", "xds-grpc"), new Tag("response_code", "200"));

    TaggedName listener = istio.produce("listener.10.0.0.1_9080.downstream_cx_total");
    assertThat(listener.tagExtractedName()).isEqualTo("listener.downstream_cx_total");
    assertThat(listener.tags()).containsExactly(new Tag("listener_address", "10.0.0.1_9080"));

    TaggedName rbac = istio.produce("http.inbound_0.0.0.0_9080;.rbac.allowed");
    assertThat(rbac.tags()).contains(new Tag("authz_enforce_result", "allowed"));
  }

  @Test
  void customTagsFixedValueAndDefaultByName() {
    StatsConfig config = StatsConfig.newBuilder()
        .setUseAllDefaultTags(BoolValue.of(false))
        .addStatsTags(TagSpecifier.newBuilder().setTagName("mesh").setFixedValue("m1"))
        .addStatsTags(TagSpecifier.newBuilder().setTagName("envoy.cluster_name"))
        .build();
    TaggedName t = TagProducer.fromConfig(config).produce("cluster.a.upstream_rq_200");
    assertThat(t.tagExtractedName()).isEqualTo("cluster.upstream_rq_200");
    assertThat(t.tags()).containsExactly(new Tag("mesh", "m1"), new Tag("envoy.cluster_name", "a"));
  }

  @Test
  void badTagSpecifiersNameTheField() {
    StatsConfig unknown = StatsConfig.newBuilder()
        .addStatsTags(TagSpecifier.newBuilder().setTagName("nope")).build();
    assertThatThrownBy(() -> TagProducer.fromConfig(unknown))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("stats_tags[0].regex")
        .hasMessageContaining("no default regex for name: 'nope'");
    StatsConfig badRegex = StatsConfig.newBuilder()
        .addStatsTags(TagSpecifier.newBuilder().setTagName("x").setRegex("(")).build();
    assertThatThrownBy(() -> TagProducer.fromConfig(badRegex))
        .isInstanceOf(ConfigException.class).hasMessageContaining("stats_tags[0].regex");
  }

  @Test
  void tagsAreComputedOncePerStatInTheStore() {
    StatsStore store = new StatsStore();
    var c = store.counter("cluster.a.upstream_cx_total");
    assertThat(c.tags()).isEqualTo(List.of(new Tag("envoy.cluster_name", "a")));
    assertThat(store.counter("cluster.a.upstream_cx_total").taggedName()).isSameAs(c.taggedName());
  }
}
