package dev.sluice.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.Duration;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.Host;
import dev.sluice.api.upstream.LoadBalancer;
import dev.sluice.api.upstream.LoadBalancerContext;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.RuntimeDouble;
import io.envoyproxy.envoy.type.v3.Percent;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SlowStartTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private final StatsStore stats = new StatsStore();
  private long now = 1_000 * SECOND;
  private volatile LbSnapshot current;
  private LoadBalancerFactory factory;

  private static Cluster.SlowStartConfig window(int seconds) {
    return Cluster.SlowStartConfig.newBuilder().setSlowStartWindow(Duration.newBuilder().setSeconds(seconds)).build();
  }

  private LoadBalancer balancer(Cluster cluster) {
    factory = new LoadBalancerFactory(LbConfigParser.parse(cluster), null, () -> now);
    return factory.create(3, () -> current, stats.counter("panic"));
  }

  private void publish(Host... hosts) {
    current = factory.snapshot(new PrioritySet(List.of(new LocalityGroup(0,
        io.envoyproxy.envoy.config.core.v3.Locality.getDefaultInstance(), 0, List.of(hosts))), 140, 50));
  }

  private static long share(LoadBalancer lb, Host host, int picks) {
    long n = 0;
    for (int i = 0; i < picks; i++) {
      n += lb.chooseHost(LoadBalancerContext.NONE) == host ? 1 : 0;
    }
    return n;
  }

  @Test
  void factorFollowsEnvoysFormula() {
    SlowStart linear = new SlowStart(10 * SECOND, 1.0, 0.1);
    assertThat(linear.factor(0, 5 * SECOND)).isEqualTo(0.5);
    assertThat(linear.factor(0, 0)).isEqualTo(0.1); // min_weight_percent floor (1 ms / 10 s is less)
    assertThat(linear.factor(0, 10 * SECOND)).isEqualTo(1.0);
    SlowStart aggressive = new SlowStart(10 * SECOND, 2.0, 0.1);
    assertThat(aggressive.factor(0, 2_500_000_000L)).isCloseTo(0.5, within(1e-12));
    SlowStart noFloor = new SlowStart(10 * SECOND, 1.0, 0.0);
    assertThat(noFloor.factor(0, 0)).isCloseTo(1e-4, within(1e-12)); // at least 1 ms counts
  }

  @Test
  void roundRobinRampsANewHostUpOverTheWindow() {
    TestHost old = TestHost.of(1);
    TestHost fresh = TestHost.of(2);
    LoadBalancer lb = balancer(Cluster.newBuilder().setName("c")
        .setRoundRobinLbConfig(Cluster.RoundRobinLbConfig.newBuilder().setSlowStartConfig(window(10))).build());
    publish(old);
    now += 60 * SECOND;
    publish(old, fresh);

    now += 2_500_000_000L; // a quarter into the window: weights 1 and 0.25
    assertThat(share(lb, fresh, 1000)).isBetween(199L, 201L);
    now += 2_500_000_000L;
    publish(old, fresh); // a new snapshot starts the worker afresh: weights 1 and 0.5
    assertThat(share(lb, fresh, 900)).isBetween(299L, 301L);
    now += 5 * SECOND; // out of the window: plain round robin
    publish(old, fresh);
    assertThat(share(lb, fresh, 1000)).isEqualTo(500);
  }

  @Test
  void aHostThatBecomesHealthyAgainRampsAgain() {
    TestHost a = TestHost.of(1);
    TestHost b = TestHost.of(2);
    LoadBalancer lb = balancer(Cluster.newBuilder().setName("c")
        .setRoundRobinLbConfig(Cluster.RoundRobinLbConfig.newBuilder().setSlowStartConfig(
            window(10).toBuilder().setMinWeightPercent(Percent.newBuilder().setValue(50)))).build());
    publish(a, b);
    now += 60 * SECOND;
    b.healthy = false;
    publish(a, b);
    now += SECOND;
    b.healthy = true;
    publish(a, b);
    now += SECOND; // 10 % into the window, held at the 50 % floor
    assertThat(share(lb, b, 900)).isBetween(299L, 301L);
  }

  @Test
  void leastRequestRampsWithAggression() {
    TestHost old = TestHost.of(1);
    TestHost fresh = TestHost.of(2);
    LoadBalancer lb = balancer(Cluster.newBuilder().setName("c")
        .setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST)
        .setLeastRequestLbConfig(Cluster.LeastRequestLbConfig.newBuilder().setSlowStartConfig(
            window(16).toBuilder().setAggression(RuntimeDouble.newBuilder().setDefaultValue(2.0)))).build());
    publish(old);
    now += 60 * SECOND;
    publish(old, fresh);
    now += 4 * SECOND; // time factor 1/4, square root 1/2: weights 1 and 0.5
    assertThat(share(lb, fresh, 900)).isBetween(299L, 301L);
  }

  @Test
  void invalidSettingsAreRejected() {
    assertThatThrownBy(() -> LbConfigParser.parse(Cluster.newBuilder().setName("c")
        .setRoundRobinLbConfig(Cluster.RoundRobinLbConfig.newBuilder().setSlowStartConfig(
            window(1).toBuilder().setAggression(RuntimeDouble.newBuilder().setDefaultValue(0)))).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("round_robin_lb_config.slow_start_config.aggression");
    assertThat(LbConfigParser.parse(Cluster.newBuilder().setName("c")
        .setRoundRobinLbConfig(Cluster.RoundRobinLbConfig.newBuilder()
            .setSlowStartConfig(Cluster.SlowStartConfig.getDefaultInstance())).build()).slowStart()).isNull();
  }
}
