package dev.sluice.lb.subset;

import static dev.sluice.lb.subset.MetaHost.struct;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancer;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.lb.LbConfig;
import dev.sluice.lb.LbConfigParser;
import dev.sluice.lb.LbSnapshot;
import dev.sluice.lb.LoadBalancerFactory;
import dev.sluice.lb.LocalityGroup;
import dev.sluice.lb.PrioritySet;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.LbSubsetConfig;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetFallbackPolicy;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector;
import io.envoyproxy.envoy.config.cluster.v3.Cluster.LbSubsetConfig.LbSubsetSelector.LbSubsetSelectorFallbackPolicy;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class SubsetLoadBalancerTest {
  private final StatsStore stats = new StatsStore();
  private volatile LbSnapshot current;
  private LoadBalancerFactory factory;

  private static LbSubsetSelector selector(String... keys) {
    return LbSubsetSelector.newBuilder().addAllKeys(List.of(keys)).build();
  }

  private LoadBalancer balancer(LbSubsetConfig subset, Host... hosts) {
    Cluster cluster = Cluster.newBuilder().setName("c").setLbSubsetConfig(subset).build();
    LbConfig config = LbConfigParser.parse(cluster);
    factory = new LoadBalancerFactory(config, stats.scope("cluster.c."), System::nanoTime);
    publish(hosts);
    return factory.create(1, () -> current, stats.counter("cluster.c.lb_healthy_panic"));
  }

  private void publish(Host... hosts) {
    current = factory.snapshot(new PrioritySet(List.of(new LocalityGroup(0,
        Locality.getDefaultInstance(), 0, List.of(hosts))), 140, 50));
  }

  private static LoadBalancerContext matching(String... pairs) {
    return matching(struct(pairs));
  }

  private static LoadBalancerContext matching(Struct lb) {
    Metadata m = Metadata.newBuilder().putFilterMetadata("envoy.lb", lb).build();
    return new LoadBalancerContext() {
      @Override
      public @Nullable Metadata metadataMatchCriteria() {
        return m;
      }
    };
  }

  private static Set<Host> picks(LoadBalancer lb, LoadBalancerContext ctx) {
    Set<Host> seen = new HashSet<>();
    for (int i = 0; i < 40; i++) {
      seen.add(lb.chooseHost(ctx));
    }
    return seen;
  }

  private long counter(String name) {
    return stats.counter("cluster.c." + name).value();
  }

  private long gauge(String name) {
    return stats.gauge("cluster.c." + name).value();
  }

  @Test
  void routesToTheSubsetMatchingTheRouteMetadata() {
    MetaHost v1a = MetaHost.of(1, "version=v1");
    MetaHost v1b = MetaHost.of(2, "version=v1");
    MetaHost v2 = MetaHost.of(3, "version=v2");
    MetaHost none = MetaHost.of(4, "stage=prod");
    LoadBalancer lb = balancer(LbSubsetConfig.newBuilder().addSubsetSelectors(selector("version")).build(),
        v1a, v1b, v2, none);

    assertThat(picks(lb, matching("version=v1"))).containsExactlyInAnyOrder(v1a, v1b);
    assertThat(picks(lb, matching("version=v2"))).containsExactly(v2);
    assertThat(counter("lb_subsets_selected")).isEqualTo(80);
    assertThat(gauge("lb_subsets_active")).isEqualTo(2);
    assertThat(counter("lb_subsets_created")).isEqualTo(2);
    // NO_FALLBACK (the default): unknown values, unknown keys and no metadata find no host.
    assertThat(lb.chooseHost(matching("version=v3"))).isNull();
    assertThat(lb.chooseHost(matching("stage=prod"))).isNull();
    assertThat(lb.chooseHost(LoadBalancerContext.NONE)).isNull();
    assertThat(counter("lb_subsets_fallback")).isZero();
  }

  @Test
  void subsetsNeedEveryKeyAndMatchExactly() {
    MetaHost both = MetaHost.of(1, "version=v1", "stage=prod");
    MetaHost v1 = MetaHost.of(2, "version=v1");
    LoadBalancer lb = balancer(LbSubsetConfig.newBuilder()
        .addSubsetSelectors(selector("version", "stage"))
        .addSubsetSelectors(selector("version")).build(), both, v1);

    assertThat(picks(lb, matching("version=v1", "stage=prod"))).containsExactly(both);
    assertThat(picks(lb, matching("version=v1"))).containsExactlyInAnyOrder(both, v1);
    assertThat(lb.chooseHost(matching("version=v1", "stage=dev"))).isNull();
  }

  @Test
  void anyEndpointFallbackUsesTheWholeCluster() {
    MetaHost v1 = MetaHost.of(1, "version=v1");
    MetaHost v2 = MetaHost.of(2, "version=v2");
    LoadBalancer lb = balancer(LbSubsetConfig.newBuilder()
        .setFallbackPolicy(LbSubsetFallbackPolicy.ANY_ENDPOINT)
        .addSubsetSelectors(selector("version")).build(), v1, v2);

    assertThat(picks(lb, matching("version=v9"))).containsExactlyInAnyOrder(v1, v2);
    assertThat(picks(lb, LoadBalancerContext.NONE)).containsExactlyInAnyOrder(v1, v2);
    assertThat(counter("lb_subsets_fallback")).isEqualTo(80);
    assertThat(counter("lb_subsets_selected")).isZero();
  }

  @Test
  void defaultSubsetFallbackAndPanicModeAny() {
    MetaHost v1 = MetaHost.of(1, "version=v1");
    MetaHost v2 = MetaHost.of(2, "version=v2", "stable=true");
    LbSubsetConfig.Builder config = LbSubsetConfig.newBuilder()
        .setFallbackPolicy(LbSubsetFallbackPolicy.DEFAULT_SUBSET)
        .setDefaultSubset(struct("stable=true"))
        .addSubsetSelectors(selector("version"));
    LoadBalancer lb = balancer(config.build(), v1, v2);
    assertThat(picks(lb, matching("version=v9"))).containsExactly(v2);
    assertThat(counter("lb_subsets_fallback")).isEqualTo(40);

    // The default subset matches nothing: no host, unless panic_mode_any.
    config.setDefaultSubset(struct("stable=never"));
    lb = balancer(config.build(), v1, v2);
    assertThat(lb.chooseHost(matching("version=v9"))).isNull();
    lb = balancer(config.setPanicModeAny(true).build(), v1, v2);
    assertThat(picks(lb, matching("version=v9"))).containsExactlyInAnyOrder(v1, v2);
    assertThat(counter("lb_subsets_fallback_panic")).isEqualTo(40);
  }

  @Test
  void selectorFallbackPoliciesOverrideTheClusters() {
    MetaHost v1prod = MetaHost.of(1, "version=v1", "stage=prod");
    MetaHost v1dev = MetaHost.of(2, "version=v1", "stage=dev");
    MetaHost v2 = MetaHost.of(3, "version=v2", "stage=dev", "zone=a");
    LoadBalancer lb = balancer(LbSubsetConfig.newBuilder()
        .setFallbackPolicy(LbSubsetFallbackPolicy.ANY_ENDPOINT)
        .setDefaultSubset(struct("version=v2"))
        .addSubsetSelectors(LbSubsetSelector.newBuilder().addKeys("version").addKeys("stage")
            .setFallbackPolicy(LbSubsetSelectorFallbackPolicy.KEYS_SUBSET).addFallbackKeysSubset("version"))
        .addSubsetSelectors(selector("version"))
        .addSubsetSelectors(LbSubsetSelector.newBuilder().addKeys("zone")
            .setFallbackPolicy(LbSubsetSelectorFallbackPolicy.NO_FALLBACK))
        .addSubsetSelectors(LbSubsetSelector.newBuilder().addKeys("stage")
            .setFallbackPolicy(LbSubsetSelectorFallbackPolicy.DEFAULT_SUBSET))
        .build(), v1prod, v1dev, v2);

    // KEYS_SUBSET: version v1 in stage canary does not exist; version v1 does.
    assertThat(picks(lb, matching("version=v1", "stage=canary"))).containsExactlyInAnyOrder(v1prod, v1dev);
    // NO_FALLBACK on the zone selector wins over the cluster's ANY_ENDPOINT.
    assertThat(lb.chooseHost(matching("zone=b"))).isNull();
    // DEFAULT_SUBSET on the stage selector.
    assertThat(picks(lb, matching("stage=qa"))).containsExactly(v2);
    assertThat(counter("lb_subsets_fallback")).isZero();
  }

  @Test
  void listAsAnyPutsAHostInTheSubsetOfEachElement() {
    MetaHost both = MetaHost.of(1, "version=v1|v2");
    MetaHost v2 = MetaHost.of(2, "version=v2");
    LoadBalancer lb = balancer(LbSubsetConfig.newBuilder().setListAsAny(true)
        .addSubsetSelectors(selector("version")).build(), both, v2);
    assertThat(picks(lb, matching("version=v1"))).containsExactly(both);
    assertThat(picks(lb, matching("version=v2"))).containsExactlyInAnyOrder(both, v2);

    // Without list_as_any the list itself is the value.
    lb = balancer(LbSubsetConfig.newBuilder().addSubsetSelectors(selector("version")).build(), both, v2);
    assertThat(lb.chooseHost(matching("version=v1"))).isNull();
  }

  @Test
  void eachSubsetBalancesOverItsHealthyHosts() {
    MetaHost up = MetaHost.of(1, "version=v1");
    MetaHost up2 = MetaHost.of(2, "version=v1");
    MetaHost down = MetaHost.of(3, "version=v1").unhealthy();
    LoadBalancer lb = balancer(LbSubsetConfig.newBuilder().addSubsetSelectors(selector("version")).build(),
        up, up2, down);
    assertThat(picks(lb, matching("version=v1"))).containsExactlyInAnyOrder(up, up2);
  }

  @Test
  void subsetsFollowMembershipChanges() {
    MetaHost v1 = MetaHost.of(1, "version=v1");
    MetaHost v2 = MetaHost.of(2, "version=v2");
    MetaHost v3 = MetaHost.of(3, "version=v3");
    LoadBalancer lb = balancer(LbSubsetConfig.newBuilder().addSubsetSelectors(selector("version")).build(), v1, v2);
    assertThat(lb.chooseHost(matching("version=v2"))).isSameAs(v2);

    publish(v1, v3);
    assertThat(lb.chooseHost(matching("version=v2"))).isNull();
    assertThat(lb.chooseHost(matching("version=v3"))).isSameAs(v3);
    assertThat(counter("lb_subsets_created")).isEqualTo(3);
    assertThat(counter("lb_subsets_removed")).isEqualTo(1);
    assertThat(gauge("lb_subsets_active")).isEqualTo(2);
  }

  @Test
  void singleHostPerSubsetKeepsTheFirstHost() {
    MetaHost first = MetaHost.of(1, "pod=a");
    MetaHost duplicate = MetaHost.of(2, "pod=a");
    LoadBalancer lb = balancer(LbSubsetConfig.newBuilder().addSubsetSelectors(
        LbSubsetSelector.newBuilder().addKeys("pod").setSingleHostPerSubset(true)).build(), first, duplicate);
    assertThat(picks(lb, matching("pod=a"))).containsExactly(first);
    assertThat(gauge("lb_subsets_single_host_per_subset_duplicate")).isEqualTo(1);
  }

  @Test
  void metadataFallbackListTriesEachVariantInOrder() {
    MetaHost c32 = MetaHost.of(1, "version=1.0", "hardware=c32");
    MetaHost v3 = MetaHost.of(2, "version=3.0");
    LoadBalancer lb = balancer(LbSubsetConfig.newBuilder()
        .setMetadataFallbackPolicy(LbSubsetConfig.LbSubsetMetadataFallbackPolicy.FALLBACK_LIST)
        .addSubsetSelectors(selector("version", "hardware"))
        .addSubsetSelectors(selector("version")).build(), c32, v3);
    Struct criteria = struct("version=1.0").toBuilder().putFields("fallback_list", Value.newBuilder()
        .setListValue(ListValue.newBuilder()
            .addValues(Value.newBuilder().setStructValue(struct("version=2.0", "hardware=c64")))
            .addValues(Value.newBuilder().setStructValue(struct("hardware=c32")))
            .addValues(Value.newBuilder().setStructValue(struct("version=3.0")))).build()).build();
    assertThat(lb.chooseHost(matching(criteria))).isSameAs(c32);

    publish(v3);
    assertThat(lb.chooseHost(matching(criteria))).isSameAs(v3);
  }

  @Test
  void localityWeightAwareSubsetsScaleTheirLocalityWeights() {
    Locality a = Locality.newBuilder().setZone("a").build();
    Locality b = Locality.newBuilder().setZone("b").build();
    MetaHost a1 = MetaHost.of(1, "version=v1");
    MetaHost a2 = MetaHost.of(2, "version=v2");
    MetaHost b1 = MetaHost.of(3, "version=v1");
    MetaHost b2 = MetaHost.of(4, "version=v1");
    Cluster cluster = Cluster.newBuilder().setName("c")
        .setCommonLbConfig(Cluster.CommonLbConfig.newBuilder()
            .setLocalityWeightedLbConfig(Cluster.CommonLbConfig.LocalityWeightedLbConfig.getDefaultInstance()))
        .setLbSubsetConfig(LbSubsetConfig.newBuilder().setLocalityWeightAware(true).setScaleLocalityWeight(true)
            .addSubsetSelectors(selector("version"))).build();
    factory = new LoadBalancerFactory(LbConfigParser.parse(cluster), stats.scope("cluster.c."), System::nanoTime);
    current = factory.snapshot(new PrioritySet(List.of(
        new LocalityGroup(0, a, 100, List.of(a1, a2)),
        new LocalityGroup(0, b, 100, List.of(b1, b2))), 140, 50));
    LoadBalancer lb = factory.create(1, () -> current, stats.counter("panic"));
    // Zone a keeps half its hosts, so half its weight: 50 against zone b's 100.
    List<Host> seen = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      seen.add(lb.chooseHost(matching("version=v1")));
    }
    assertThat(seen.stream().filter(h -> h == a1).count()).isEqualTo(100);
  }

  @Test
  void keysSubsetFallbackIsValidated() {
    LbSubsetSelector.Builder s = LbSubsetSelector.newBuilder().addKeys("a").addKeys("b")
        .setFallbackPolicy(LbSubsetSelectorFallbackPolicy.KEYS_SUBSET);
    assertThatThrownBy(() -> parse(s.build()))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cannot be empty");
    assertThatThrownBy(() -> parse(s.clone().addFallbackKeysSubset("c").build()))
        .hasMessageContaining("subset of selector keys");
    assertThatThrownBy(() -> parse(s.clone().addFallbackKeysSubset("a").addFallbackKeysSubset("b").build()))
        .hasMessageContaining("cannot be equal");
    assertThatThrownBy(() -> parse(LbSubsetSelector.newBuilder().addKeys("a").addKeys("b")
        .setSingleHostPerSubset(true).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("exactly one key");
    assertThat(parse(s.clone().addFallbackKeysSubset("a").build()).subset().selectors().getFirst().fallbackKeys())
        .containsExactly("a");
  }

  private static LbConfig parse(LbSubsetSelector selector) {
    return LbConfigParser.parse(Cluster.newBuilder().setName("c")
        .setLbSubsetConfig(LbSubsetConfig.newBuilder().addSubsetSelectors(selector)).build());
  }
}
