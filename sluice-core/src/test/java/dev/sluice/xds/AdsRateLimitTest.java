package dev.sluice.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.DoubleValue;
import com.google.protobuf.UInt32Value;
import dev.sluice.stats.StatsStore;
import dev.sluice.testing.ManualAdsServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RateLimitSettings;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code rate_limit_settings} on a scripted ADS server: a request beyond the token budget waits
 * ({@code control_plane.rate_limit_enforced}, {@code control_plane.pending_requests}) and goes out
 * once the (test) clock has refilled a token; ACKs are never held back.
 */
class AdsRateLimitTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
  private final AtomicLong nowMillis = new AtomicLong(1_000_000);
  private final StatsStore stats = new StatsStore();
  private ManualAdsServer ads;
  private AdsClient client;

  /** A clock the test moves. */
  private final Clock clock = new Clock() {
    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(nowMillis.get());
    }
  };

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      control.submit(client::close).get();
    }
    control.shutdownNow();
    ads.close();
  }

  @Test
  void requestsBeyondTheBudgetWaitForATokenAndAreCounted() throws Exception {
    ads = ManualAdsServer.start();
    Queue<DiscoveryRequest> requests = ads.sotwRequests;
    // One token, one more every 100 ms of the test clock (which stands still until moved).
    RateLimitSettings limit = RateLimitSettings.newBuilder().setMaxTokens(UInt32Value.of(1))
        .setFillRate(DoubleValue.of(10)).build();
    control.submit(() -> {
      client = new AdsClient(ads.channel(), Node.newBuilder().setId("rl").build(), AdsClient.Protocol.SOTW, false, control,
          Backoff.jittered(), clock, stats);
      client.limitRequests(limit);
      client.subscribe(XdsResourceType.CLUSTER, null, u -> List.of());
      client.start();
    }).get();
    await().atMost(WAIT).until(() -> requests.size() == 1 && ads.sotw() != null);

    // The budget is spent: the EDS subscription waits.
    control.submit(() -> client.subscribe(XdsResourceType.ENDPOINT, Set.of("svc"), u -> List.of())).get();
    assertThat(stats.counter("control_plane.rate_limit_enforced").value()).isEqualTo(1);
    assertThat(stats.gauge("control_plane.pending_requests").value()).isEqualTo(1);

    // A response is still ACKed at once.
    ads.sotw().onNext(DiscoveryResponse.newBuilder().setVersionInfo("1").setNonce("n1")
        .setTypeUrl(XdsResourceType.CLUSTER.typeUrl())
        .addResources(Any.pack(Cluster.newBuilder().setName("c").build())).build());
    await().atMost(WAIT).until(() -> requests.size() == 2);
    assertThat(requests).last().satisfies(ack -> {
      assertThat(ack.getTypeUrl()).isEqualTo(XdsResourceType.CLUSTER.typeUrl());
      assertThat(ack.getResponseNonce()).isEqualTo("n1");
    });
    assertThat(stats.gauge("control_plane.pending_requests").value()).isEqualTo(1);

    // 100 ms later (test clock) a token is back and the held request goes out.
    nowMillis.addAndGet(100);
    await().atMost(WAIT).untilAsserted(() -> assertThat(requests).anySatisfy(q -> {
      assertThat(q.getTypeUrl()).isEqualTo(XdsResourceType.ENDPOINT.typeUrl());
      assertThat(q.getResourceNamesList()).containsExactly("svc");
    }));
    await().atMost(WAIT).until(() -> stats.gauge("control_plane.pending_requests").value() == 0);
    assertThat(stats.counter("control_plane.rate_limit_enforced").value()).isEqualTo(1);
  }
}
