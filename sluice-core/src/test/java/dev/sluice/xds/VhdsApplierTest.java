package dev.sluice.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import dev.sluice.api.config.ConfigException;
import dev.sluice.http.RdsRouteConfigProvider;
import dev.sluice.http.RdsRouteConfigRegistry;
import dev.sluice.router.RouteCompileContext;
import dev.sluice.router.RouteTable;
import dev.sluice.router.VirtualHostEntry;
import dev.sluice.router.VirtualHostMerge;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.Vhds;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * VHDS without a server: virtual hosts merged into their route configuration's table (replacing an
 * RDS one of the same name), removed, kept across RDS updates, a bad one rejected by name while the
 * rest apply; on-demand requests sharing one subscription and resuming on an answer by name or
 * alias, on a removal, or after the bound; delta-only config sources.
 */
class VhdsApplierTest {
  private static final ConfigSource ADS = ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()).build();

  private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
  private final RdsRouteConfigRegistry routes = new RdsRouteConfigRegistry();
  private final StatsStore stats = new StatsStore();
  /** Every name set the applier subscribed each source to, in order. */
  private final List<Map<ConfigSource, Set<String>>> subscriptions = new CopyOnWriteArrayList<>();
  private final VhdsApplier vhds = new VhdsApplier(routes, control, AdsClient.Protocol.DELTA, subscriptions::add, stats,
      Duration.ofMillis(200));
  private final RdsRouteConfigProvider provider = routes.provider("rc", RouteCompileContext.DEFAULT);

  @AfterEach
  void stop() {
    control.shutdownNow();
  }

  private <T> T onControl(Callable<T> task) throws Exception {
    return control.submit(task).get(5, TimeUnit.SECONDS);
  }

  private static VirtualHost vhost(String name, String... domains) {
    return VirtualHost.newBuilder().setName(name).addAllDomains(List.of(domains))
        .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setRoute(RouteAction.newBuilder().setCluster("c")))
        .build();
  }

  private static RouteConfiguration rc(String name, ConfigSource vhdsSource, VirtualHost... rds) {
    return RouteConfiguration.newBuilder().setName(name).setVhds(Vhds.newBuilder().setConfigSource(vhdsSource))
        .addAllVirtualHosts(List.of(rds)).build();
  }

  /** As the RDS applier publishes: the merged configuration, then the RDS version recorded. */
  private void publish(RouteConfiguration rds) throws Exception {
    onControl(() -> {
      routes.update(vhds.effective(rds));
      vhds.published(rds);
      return null;
    });
  }

  private List<ResourceHandler.ResourceError> apply(Map<String, VirtualHost> added, Set<String> removed,
      Map<String, List<String>> aliases) throws Exception {
    Map<String, Message> resources = new LinkedHashMap<>(added);
    return onControl(() -> vhds.apply(new ResourceHandler.Update("v", resources, removed, aliases)));
  }

  private @Nullable String host(String authority) {
    RouteTable table = provider.current();
    VirtualHostEntry vh = table == null ? null : table.findVirtualHost(new DefaultHttp2Headers().authority(authority));
    return vh == null ? null : vh.name();
  }

  private long counter(String name) {
    return stats.counter(name).value();
  }

  @Test
  void mergesReplacesAndRemovesVirtualHosts() throws Exception {
    vhds.statPrefix("rc", "in");
    publish(rc("rc", ADS, vhost("base", "base.local"), vhost("other", "other.local")));
    assertThat(subscriptions.getLast()).isEqualTo(Map.of(ADS, Set.of()));
    assertThat(provider.current().vhds()).isTrue();

    assertThat(apply(Map.of("rc/x", vhost("x", "x.local"), "rc/base", vhost("base", "base.local", "alt.local")),
        Set.of(), Map.of())).isEmpty();
    assertThat(host("x.local")).isEqualTo("x");
    assertThat(host("alt.local")).as("the VHDS virtual host replaced the RDS one of its name").isEqualTo("base");
    assertThat(host("other.local")).isEqualTo("other");
    assertThat(routes.config("rc").getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("base", "other", "x");

    // An RDS update keeps the VHDS virtual hosts.
    publish(rc("rc", ADS, vhost("base", "base.local"), vhost("third", "third.local")));
    assertThat(host("x.local")).isEqualTo("x");
    assertThat(host("alt.local")).isEqualTo("base");
    assertThat(host("third.local")).isEqualTo("third");
    assertThat(host("other.local")).isNull();

    // Removed: the RDS virtual host of that name is back.
    assertThat(apply(Map.of(), Set.of("rc/x", "rc/base"), Map.of())).isEmpty();
    assertThat(host("x.local")).isNull();
    assertThat(host("alt.local")).isNull();
    assertThat(host("base.local")).isEqualTo("base");
    assertThat(counter("http.in.vhds.rc.config_reload")).isEqualTo(2);

    assertThat(apply(Map.of(), Set.of(), Map.of())).isEmpty();
    assertThat(counter("http.in.vhds.rc.empty_update")).isEqualTo(1);
    assertThat(counter("http.in.vhds.rc.update_success")).isEqualTo(2);
  }

  @Test
  void aBadVirtualHostIsRejectedByNameWhileTheOthersApply() throws Exception {
    vhds.statPrefix("rc", "in");
    publish(rc("rc", ADS, vhost("base", "base.local")));
    Map<String, VirtualHost> added = new LinkedHashMap<>();
    added.put("rc/good", vhost("good", "good.local"));
    added.put("rc/dup", vhost("dup", "base.local"));
    added.put("rc/also-good", vhost("also-good", "also.local"));
    List<ResourceHandler.ResourceError> errors = apply(added, Set.of(), Map.of());
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.name()).isEqualTo("rc/dup");
      assertThat(e.message()).contains("Duplicate entry of domain base.local");
    });
    assertThat(host("good.local")).isEqualTo("good");
    assertThat(host("also.local")).isEqualTo("also-good");
    assertThat(counter("http.in.vhds.rc.update_rejected")).isEqualTo(1);
  }

  @Test
  void aVirtualHostNamingNoVhdsRouteConfigurationIsRejected() throws Exception {
    routes.provider("rc2", RouteCompileContext.DEFAULT);
    publish(rc("rc", ADS, vhost("base", "base.local")));
    publish(rc("rc2", ADS, vhost("base", "base2.local")));
    assertThat(apply(Map.of("nowhere/x", vhost("x", "x.local"), "rc2/y", vhost("y", "y.local")), Set.of(), Map.of()))
        .extracting(ResourceHandler.ResourceError::name).containsExactly("nowhere/x");
    assertThat(routes.config("rc2").getVirtualHostsList()).extracting(VirtualHost::getName).containsExactly("base", "y");
    assertThat(host("y.local")).isNull();
  }

  @Test
  void vhdsDroppedWithItsFieldOrWhenItsSourceChanges() throws Exception {
    publish(rc("rc", ADS, vhost("base", "base.local")));
    apply(Map.of("rc/x", vhost("x", "x.local")), Set.of(), Map.of());
    assertThat(host("x.local")).isEqualTo("x");
    ConfigSource other = ConfigSource.newBuilder().setApiConfigSource(ApiConfigSource.newBuilder()
        .setApiType(ApiConfigSource.ApiType.DELTA_GRPC).addGrpcServices(GrpcService.newBuilder()
            .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName("vhds"))))
        .build();
    publish(rc("rc", other, vhost("base", "base.local")));
    assertThat(host("x.local")).isNull();
    assertThat(subscriptions.getLast()).containsOnlyKeys(XdsSources.key(other, ""));
    publish(RouteConfiguration.newBuilder().setName("rc").addVirtualHosts(vhost("base", "base.local")).build());
    assertThat(provider.current().vhds()).isFalse();
    assertThat(subscriptions.getLast()).isEmpty();
  }

  @Test
  void onDemandRequestsShareOneSubscriptionAndResumeOnTheAnswer() throws Exception {
    publish(rc("rc", ADS, vhost("base", "base.local")));
    List<Boolean> done = new CopyOnWriteArrayList<>();
    vhds.request("rc", "late.local", done::add);
    vhds.request("rc", "late.local", done::add);
    await().atMost(Duration.ofSeconds(5)).until(() -> subscriptions.getLast().get(ADS).contains("rc/late.local"));
    assertThat(subscriptions.stream().filter(s -> s.get(ADS).contains("rc/late.local")).count()).isEqualTo(1);
    assertThat(done).isEmpty();

    // Answered under another name, listing the requested one among its aliases.
    apply(Map.of("rc/shared", vhost("shared", "late.local")), Set.of(), Map.of("rc/shared", List.of("rc/late.local")));
    assertThat(done).containsExactly(true, true);
    assertThat(host("late.local")).as("published before the requests resumed").isEqualTo("shared");
    assertThat(subscriptions.getLast().get(ADS)).containsExactly("rc/late.local");
  }

  @Test
  void onDemandRequestResumesWithoutRouteWhenTheServerHasNoneOrAfterTheBound() throws Exception {
    publish(rc("rc", ADS, vhost("base", "base.local")));
    List<Boolean> removed = new CopyOnWriteArrayList<>();
    vhds.request("rc", "nope.local", removed::add);
    await().atMost(Duration.ofSeconds(5)).until(() -> subscriptions.getLast().get(ADS).contains("rc/nope.local"));
    apply(Map.of(), Set.of("rc/nope.local"), Map.of());
    assertThat(removed).containsExactly(false);
    assertThat(subscriptions.getLast().get(ADS)).as("unsubscribed: a later request asks again").isEmpty();

    List<Boolean> timedOut = new CopyOnWriteArrayList<>();
    long start = System.nanoTime();
    vhds.request("rc", "silent.local", timedOut::add);
    await().atMost(Duration.ofSeconds(5)).until(() -> !timedOut.isEmpty());
    assertThat(timedOut).containsExactly(false);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    assertThat(subscriptions.getLast().get(ADS)).isEmpty();

    List<Boolean> unknownRoute = new CopyOnWriteArrayList<>();
    vhds.request("other", "x.local", unknownRoute::add);
    await().atMost(Duration.ofSeconds(5)).until(() -> !unknownRoute.isEmpty());
    assertThat(unknownRoute).containsExactly(false);
  }

  @Test
  void vhdsNeedsADeltaGrpcSource() {
    VhdsApplier sotw = new VhdsApplier(routes, control, AdsClient.Protocol.SOTW, subscriptions::add, stats, Duration.ofSeconds(1));
    assertThatThrownBy(() -> sotw.effective(rc("rc", ADS)))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("vhds.config_source"))
        .hasMessageContaining("delta");
    VhdsApplier noAds = new VhdsApplier(routes, control, null, subscriptions::add, stats, Duration.ofSeconds(1));
    assertThatThrownBy(() -> noAds.effective(rc("rc", ADS))).hasMessageContaining("vhds.config_source");
    ConfigSource grpc = ConfigSource.newBuilder().setApiConfigSource(ApiConfigSource.newBuilder()
        .setApiType(ApiConfigSource.ApiType.GRPC).addGrpcServices(GrpcService.newBuilder()
            .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName("vhds")))).build();
    assertThatThrownBy(() -> vhds.effective(rc("rc", grpc))).isInstanceOfSatisfying(ConfigException.class,
        e -> assertThat(e.fieldPath()).isEqualTo("vhds.config_source.api_config_source.api_type"));
    ConfigSource file = ConfigSource.newBuilder().setPath("/tmp/vhds.yaml").build();
    assertThatThrownBy(() -> vhds.effective(rc("rc", file))).isInstanceOfSatisfying(ConfigException.class,
        e -> assertThat(e.fieldPath()).isEqualTo("vhds.config_source"));
    assertThatThrownBy(() -> RouteTable.compile(rc("rc", ADS), RouteCompileContext.DEFAULT))
        .as("an inline route configuration cannot use VHDS").hasMessageContaining("vhds");
  }

  @Test
  void mergeKeepsRdsOrderAndAppendsNewVirtualHosts() {
    RouteConfiguration rds = rc("rc", ADS, vhost("a", "a"), vhost("b", "b"));
    List<VirtualHost> merged = VirtualHostMerge.merge(rds, new ArrayList<>(List.of(vhost("c", "c"), vhost("a", "a2"),
        vhost("c", "c2")))).getVirtualHostsList();
    assertThat(merged).extracting(VirtualHost::getName).containsExactly("a", "b", "c");
    assertThat(merged.get(0).getDomains(0)).isEqualTo("a2");
    assertThat(merged.get(2).getDomains(0)).isEqualTo("c2");
    assertThat(VirtualHostMerge.merge(rds, List.of())).isSameAs(rds);
  }
}
