package dev.sluice.upstream.outlier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.upstream.OutlierMonitor;
import dev.sluice.stats.StatsStore;
import dev.sluice.upstream.ClusterInfoImpl;
import dev.sluice.upstream.HealthFlag;
import dev.sluice.upstream.HostImpl;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The detector on its own: a manual clock, intervals run by hand on a real control thread, results
 * reported as workers would.
 */
class OutlierDetectorTest {
  private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
  private final StatsStore store = new StatsStore();
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final AtomicInteger refreshes = new AtomicInteger();
  private final List<HostImpl> hosts = new ArrayList<>();
  private OutlierDetector detector;

  @AfterEach
  void stop() {
    control.shutdownNow();
  }

  private void start(OutlierDetection.Builder config, int hostCount) throws Exception {
    Cluster proto = Cluster.newBuilder().setName("c").setOutlierDetection(config).build();
    ClusterInfoImpl info = new ClusterInfoImpl(proto, store);
    for (int i = 0; i < hostCount; i++) {
      hosts.add(new HostImpl(info, new InetSocketAddress("127.0.0.1", 1000 + i), "", 1, 0,
          Locality.getDefaultInstance(), Metadata.getDefaultInstance()));
    }
    detector = new OutlierDetector(OutlierDetectionConfig.parse(proto.getOutlierDetection()),
        info.statsScope(), control, clock::get, new SplittableRandom(1), refreshes::incrementAndGet);
    onControl(() -> detector.hostsAdded(hosts));
  }

  private void onControl(Runnable r) throws Exception {
    control.submit(r).get(5, TimeUnit.SECONDS);
  }

  private void advanceAndRunInterval(long millis) throws Exception {
    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    onControl(detector::runInterval);
  }

  private long stat(String name) {
    return store.counter("cluster.c.outlier_detection." + name).value();
  }

  private long active() {
    return store.gauge("cluster.c.outlier_detection.ejections_active").value();
  }

  private boolean ejected(HostImpl h) {
    return h.hasHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK);
  }

  private void responses(HostImpl h, int status, int count) throws Exception {
    for (int i = 0; i < count; i++) {
      h.outlierMonitor().putHttpResponseCode(status);
    }
    onControl(() -> {}); // the detection the last one posted has run
  }

  @Test
  void consecutive5xxEjectsAndReadmitsWithGrowingEjectionTimes() throws Exception {
    start(OutlierDetection.newBuilder()
        .setBaseEjectionTime(Durations.fromMillis(100))
        .setMaxEjectionPercent(UInt32Value.of(100)), 2);
    HostImpl h = hosts.getFirst();
    assertThat(h.outlierMonitor()).isInstanceOf(HostMonitor.class);

    responses(h, 500, 4);
    assertThat(ejected(h)).isFalse();
    responses(h, 200, 1); // a success ends the run
    responses(h, 503, 4);
    assertThat(ejected(h)).isFalse();
    responses(h, 500, 1);
    assertThat(ejected(h)).isTrue();
    assertThat(h.healthy()).isFalse();
    assertThat(active()).isEqualTo(1);
    assertThat(stat("ejections_detected_consecutive_5xx")).isEqualTo(1);
    assertThat(stat("ejections_enforced_consecutive_5xx")).isEqualTo(1);
    assertThat(stat("ejections_enforced_total")).isEqualTo(1);
    assertThat(refreshes.get()).isEqualTo(1);

    // First ejection: base_ejection_time (100 ms).
    advanceAndRunInterval(99);
    assertThat(ejected(h)).isTrue();
    advanceAndRunInterval(1);
    assertThat(ejected(h)).isFalse();
    assertThat(active()).isZero();

    // Second ejection right away: twice the base time.
    responses(h, 500, 5);
    assertThat(ejected(h)).isTrue();
    advanceAndRunInterval(150);
    assertThat(ejected(h)).isTrue();
    advanceAndRunInterval(50);
    assertThat(ejected(h)).isFalse();

    // Third: three times.
    responses(h, 500, 5);
    advanceAndRunInterval(299);
    assertThat(ejected(h)).isTrue();
    advanceAndRunInterval(1);
    assertThat(ejected(h)).isFalse();
    assertThat(stat("ejections_enforced_consecutive_5xx")).isEqualTo(3);
  }

  @Test
  void ejectionTimeIsCappedByMaxEjectionTimeAndShrinksWhileHealthy() throws Exception {
    start(OutlierDetection.newBuilder()
        .setConsecutive5Xx(UInt32Value.of(1))
        .setBaseEjectionTime(Durations.fromMillis(100))
        .setMaxEjectionTime(Durations.fromMillis(200))
        .setMaxEjectionPercent(UInt32Value.of(100)), 1);
    HostImpl h = hosts.getFirst();
    for (int i = 0; i < 3; i++) {
      responses(h, 500, 1);
      advanceAndRunInterval(200);
      assertThat(ejected(h)).isFalse();
    }
    // Capped at 200 ms: a fourth ejection still ends after 200 ms.
    responses(h, 500, 1);
    advanceAndRunInterval(199);
    assertThat(ejected(h)).isTrue();
    advanceAndRunInterval(1);
    assertThat(ejected(h)).isFalse();
    // Healthy for two base times: the backoff steps down twice, so the next ejection lasts the
    // base time again (without the decay it would last 200 ms).
    advanceAndRunInterval(100);
    advanceAndRunInterval(100);
    responses(h, 500, 1);
    advanceAndRunInterval(100);
    assertThat(ejected(h)).isFalse();
  }

  @Test
  void maxEjectionPercentLimitsEjections() throws Exception {
    start(OutlierDetection.newBuilder().setConsecutive5Xx(UInt32Value.of(1))
        .setMaxEjectionPercent(UInt32Value.of(50)), 4);
    responses(hosts.get(0), 500, 1);
    responses(hosts.get(1), 500, 1);
    responses(hosts.get(2), 500, 1);
    assertThat(hosts.stream().filter(this::ejected)).hasSize(2);
    assertThat(stat("ejections_overflow")).isEqualTo(1);
    assertThat(active()).isEqualTo(2);
  }

  @Test
  void theDefaultTenPercentStillEjectsNothingOfTwoHostsUnlessAlwaysEjectOneHost() throws Exception {
    start(OutlierDetection.newBuilder().setConsecutive5Xx(UInt32Value.of(1)), 2);
    responses(hosts.get(0), 500, 1);
    assertThat(ejected(hosts.get(0))).isFalse();
    assertThat(stat("ejections_overflow")).isEqualTo(1);
  }

  @Test
  void gatewayFailuresAreDetectedButNotEnforcedByDefault() throws Exception {
    start(OutlierDetection.newBuilder().setConsecutive5Xx(UInt32Value.of(100))
        .setConsecutiveGatewayFailure(UInt32Value.of(3))
        .setMaxEjectionPercent(UInt32Value.of(100)), 1);
    HostImpl h = hosts.getFirst();
    responses(h, 502, 2);
    responses(h, 500, 1); // not a gateway error: the gateway run restarts
    responses(h, 504, 2);
    assertThat(stat("ejections_detected_consecutive_gateway_failure")).isZero();
    responses(h, 503, 1);
    assertThat(stat("ejections_detected_consecutive_gateway_failure")).isEqualTo(1);
    assertThat(stat("ejections_enforced_consecutive_gateway_failure")).isZero();
    assertThat(ejected(h)).isFalse();
  }

  @Test
  void enforcedGatewayFailuresEject() throws Exception {
    start(OutlierDetection.newBuilder().setConsecutiveGatewayFailure(UInt32Value.of(2))
        .setEnforcingConsecutiveGatewayFailure(UInt32Value.of(100))
        .setMaxEjectionPercent(UInt32Value.of(100)), 1);
    responses(hosts.getFirst(), 503, 2);
    assertThat(ejected(hosts.getFirst())).isTrue();
    assertThat(stat("ejections_enforced_consecutive_gateway_failure")).isEqualTo(1);
  }

  @Test
  void localOriginFailuresCountAsGatewayErrorsWithoutSplit() throws Exception {
    start(OutlierDetection.newBuilder().setMaxEjectionPercent(UInt32Value.of(100)), 1);
    HostImpl h = hosts.getFirst();
    for (int i = 0; i < 5; i++) {
      h.outlierMonitor().putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_FAILED);
    }
    onControl(() -> {});
    assertThat(ejected(h)).isTrue();
    assertThat(stat("ejections_enforced_consecutive_5xx")).isEqualTo(1);
  }

  @Test
  void splitLocalOriginErrorsHaveTheirOwnRun() throws Exception {
    start(OutlierDetection.newBuilder().setSplitExternalLocalOriginErrors(true)
        .setConsecutiveLocalOriginFailure(UInt32Value.of(3))
        .setMaxEjectionPercent(UInt32Value.of(100)), 1);
    HostImpl h = hosts.getFirst();
    OutlierMonitor m = h.outlierMonitor();
    m.putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_FAILED);
    m.putResult(OutlierMonitor.Result.LOCAL_ORIGIN_TIMEOUT);
    m.putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_SUCCESS); // ends the local run
    m.putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_FAILED);
    m.putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_FAILED);
    responses(h, 500, 4); // the external run does not mix with the local one
    assertThat(ejected(h)).isFalse();
    m.putResult(OutlierMonitor.Result.LOCAL_ORIGIN_CONNECT_FAILED);
    onControl(() -> {});
    assertThat(ejected(h)).isTrue();
    assertThat(stat("ejections_enforced_consecutive_local_origin_failure")).isEqualTo(1);
    assertThat(stat("ejections_detected_consecutive_5xx")).isZero();
  }

  @Test
  void successRateEjectsTheOutlier() throws Exception {
    start(OutlierDetection.newBuilder()
        .setConsecutive5Xx(UInt32Value.of(1000))
        .setSuccessRateRequestVolume(UInt32Value.of(20))
        .setMaxEjectionPercent(UInt32Value.of(100)), 5);
    for (int i = 0; i < 4; i++) {
      responses(hosts.get(i), 200, 20);
    }
    HostImpl bad = hosts.get(4);
    responses(bad, 200, 10);
    responses(bad, 500, 10);
    advanceAndRunInterval(10); // closes the interval that collected the results
    assertThat(ejected(bad)).isTrue();
    assertThat(hosts.subList(0, 4)).noneMatch(this::ejected);
    assertThat(stat("ejections_detected_success_rate")).isEqualTo(1);
    assertThat(stat("ejections_enforced_success_rate")).isEqualTo(1);
    assertThat(detector.successRateAverage(false)).isEqualTo(90.0);
    assertThat(detector.successRateEjectionThreshold(false)).isLessThan(90.0);
    assertThat(((HostMonitor) hosts.getFirst().outlierMonitor()).successRate()).isEqualTo(100.0);
  }

  @Test
  void successRateNeedsEnoughHostsWithEnoughVolume() throws Exception {
    start(OutlierDetection.newBuilder()
        .setConsecutive5Xx(UInt32Value.of(1000))
        .setSuccessRateRequestVolume(UInt32Value.of(20))
        .setMaxEjectionPercent(UInt32Value.of(100)), 5);
    for (int i = 0; i < 3; i++) {
      responses(hosts.get(i), 200, 20);
    }
    responses(hosts.get(3), 200, 19); // below the request volume
    responses(hosts.get(4), 500, 20);
    advanceAndRunInterval(10);
    assertThat(hosts).noneMatch(this::ejected);
    assertThat(detector.successRateAverage(false)).isEqualTo(-1);
  }

  @Test
  void failurePercentageEjectsWhenEnforced() throws Exception {
    start(OutlierDetection.newBuilder()
        .setConsecutive5Xx(UInt32Value.of(1000))
        .setEnforcingSuccessRate(UInt32Value.of(0))
        .setFailurePercentageThreshold(UInt32Value.of(50))
        .setFailurePercentageMinimumHosts(UInt32Value.of(2))
        .setFailurePercentageRequestVolume(UInt32Value.of(10))
        .setEnforcingFailurePercentage(UInt32Value.of(100))
        .setMaxEjectionPercent(UInt32Value.of(100)), 2);
    responses(hosts.get(0), 200, 10);
    responses(hosts.get(1), 200, 4);
    responses(hosts.get(1), 500, 6);
    advanceAndRunInterval(10);
    assertThat(ejected(hosts.get(1))).isTrue();
    assertThat(ejected(hosts.get(0))).isFalse();
    assertThat(stat("ejections_enforced_failure_percentage")).isEqualTo(1);
  }

  @Test
  void removedHostsLeaveTheActiveCount() throws Exception {
    start(OutlierDetection.newBuilder().setConsecutive5Xx(UInt32Value.of(1))
        .setMaxEjectionPercent(UInt32Value.of(100)), 2);
    HostImpl h = hosts.getFirst();
    responses(h, 500, 1);
    assertThat(active()).isEqualTo(1);
    onControl(() -> detector.hostsRemoved(List.of(h)));
    assertThat(active()).isZero();
    assertThat(h.outlierMonitor()).isSameAs(OutlierMonitor.NONE);
  }

  @Test
  void invalidConfigNamesTheField() {
    assertThatThrownBy(() -> OutlierDetectionConfig.parse(OutlierDetection.newBuilder()
        .setMaxEjectionPercent(UInt32Value.of(101)).build()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("outlier_detection.max_ejection_percent.value");
    assertThatThrownBy(() -> OutlierDetectionConfig.parse(OutlierDetection.newBuilder()
        .setInterval(Durations.fromMillis(0)).build()))
        .hasMessageContaining("outlier_detection.interval");
  }
}
