package dev.sluice.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt32Value;
import dev.sluice.api.upstream.ResourceManager;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers.Thresholds;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.type.v3.Percent;
import org.junit.jupiter.api.Test;

class ResourceManagerImplTest {
  private final StatsStore stats = new StatsStore();

  private ResourceManager manager(Thresholds... thresholds) {
    return manager(RoutingPriority.DEFAULT, thresholds);
  }

  private ResourceManager manager(RoutingPriority priority, Thresholds... thresholds) {
    return new ResourceManagerImpl(CircuitBreakers.newBuilder().addAllThresholds(java.util.List.of(thresholds)).build(),
        priority, stats.scope("cluster.c."));
  }

  private static void times(int n, Runnable r) {
    for (int i = 0; i < n; i++) {
      r.run();
    }
  }

  @Test
  void envoysDefaults() {
    ResourceManager rm = manager();
    assertThat(rm.connections().max()).isEqualTo(1024);
    assertThat(rm.pendingRequests().max()).isEqualTo(1024);
    assertThat(rm.requests().max()).isEqualTo(1024);
    assertThat(rm.retries().max()).isEqualTo(3);
    assertThat(rm.connectionPools().max()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void maxRetriesTripsAndRecoversWithGauges() {
    ResourceManager rm = manager(Thresholds.newBuilder().setMaxRetries(UInt32Value.of(2)).setTrackRemaining(true).build());
    times(2, rm.retries()::inc);
    assertThat(rm.retries().canCreate()).isFalse();
    assertThat(stats.gauge("cluster.c.circuit_breakers.default.rq_retry_open").value()).isEqualTo(1);
    assertThat(stats.gauge("cluster.c.circuit_breakers.default.remaining_retries").value()).isZero();
    rm.retries().dec();
    assertThat(rm.retries().canCreate()).isTrue();
    assertThat(stats.gauge("cluster.c.circuit_breakers.default.rq_retry_open").value()).isZero();
    assertThat(stats.gauge("cluster.c.circuit_breakers.default.remaining_retries").value()).isEqualTo(1);
  }

  @Test
  void retryBudgetFollowsActiveAndPendingRequests() {
    ResourceManager rm = manager(Thresholds.newBuilder().setMaxRetries(UInt32Value.of(100))
        .setRetryBudget(Thresholds.RetryBudget.getDefaultInstance()).build());
    // No load: min_retry_concurrency (3) applies, not max_retries.
    assertThat(rm.retries().max()).isEqualTo(3);
    times(3, rm.retries()::inc);
    assertThat(rm.retries().canCreate()).isFalse();
    // 20 % of 30 active + 10 pending requests: 8.
    times(30, rm.requests()::inc);
    times(10, rm.pendingRequests()::inc);
    assertThat(rm.retries().max()).isEqualTo(8);
    assertThat(rm.retries().canCreate()).isTrue();

    ResourceManager custom = manager(Thresholds.newBuilder().setRetryBudget(Thresholds.RetryBudget.newBuilder()
        .setBudgetPercent(Percent.newBuilder().setValue(50)).setMinRetryConcurrency(UInt32Value.of(1))).build());
    assertThat(custom.retries().max()).isEqualTo(1);
    times(10, custom.requests()::inc);
    assertThat(custom.retries().max()).isEqualTo(5);
  }

  @Test
  void eachPriorityHasItsOwnThresholdsAndGauges() {
    Thresholds high = Thresholds.newBuilder().setPriority(RoutingPriority.HIGH).setMaxRequests(UInt32Value.of(1)).build();
    ResourceManager rmHigh = manager(RoutingPriority.HIGH, high);
    ResourceManager rmDefault = manager(RoutingPriority.DEFAULT, high);
    assertThat(rmHigh.requests().max()).isEqualTo(1);
    assertThat(rmDefault.requests().max()).isEqualTo(1024);
    rmHigh.requests().inc();
    assertThat(stats.gauge("cluster.c.circuit_breakers.high.rq_open").value()).isEqualTo(1);
    assertThat(stats.gauge("cluster.c.circuit_breakers.default.rq_open").value()).isZero();
  }
}
