package dev.sluice.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import dev.sluice.stats.StatsStore;
import dev.sluice.testing.ManualAdsServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Resource TTL and heartbeats ({@code Resource.ttl}, a wrapper without a body) against a scripted
 * ADS server on a real socket: a heartbeat keeps a resource, expiry drops it (a cluster removed,
 * an endpoint assignment emptied), a resource re-sent without a TTL never expires.
 */
class AdsTtlTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final com.google.protobuf.Duration TTL = com.google.protobuf.Duration.newBuilder().setNanos(200_000_000).build();

  private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor();
  private final ConcurrentLinkedQueue<ResourceHandler.Update> updates = new ConcurrentLinkedQueue<>();
  private ManualAdsServer ads;
  private AdsClient client;

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      control.submit(client::close).get();
    }
    control.shutdownNow();
    ads.close();
  }

  private void start(AdsClient.Protocol protocol, XdsResourceType type, Set<String> names) throws Exception {
    ads = ManualAdsServer.start();
    control.submit(() -> {
      client = new AdsClient(ads.channel(), Node.newBuilder().setId("ttl").build(), protocol, false, control,
          Backoff.jittered(), Clock.systemUTC(), new StatsStore());
      client.subscribe(type, names, u -> {
        updates.add(u);
        return List.of();
      });
      client.start();
    }).get();
    await().atMost(WAIT).until(() -> ads.requestCount() > 0);
  }

  private static Any wrapped(String name, com.google.protobuf.Message body, boolean ttl) {
    Resource.Builder r = Resource.newBuilder().setName(name).setVersion("1").setResource(Any.pack(body));
    if (ttl) {
      r.setTtl(TTL);
    }
    return Any.pack(r.build());
  }

  private static Any heartbeat(String name) {
    return Any.pack(Resource.newBuilder().setName(name).setVersion("1").setTtl(TTL).build());
  }

  private void sendSotw(String version, Any... resources) {
    ads.sotw().onNext(DiscoveryResponse.newBuilder().setVersionInfo(version).setNonce(version)
        .setTypeUrl(XdsResourceType.CLUSTER.typeUrl()).addAllResources(List.of(resources)).build());
  }

  private static Cluster cluster(String name) {
    return Cluster.newBuilder().setName(name).build();
  }

  @Test
  void sotwHeartbeatKeepsAClusterAndExpiryRemovesIt() throws Exception {
    start(AdsClient.Protocol.SOTW, XdsResourceType.CLUSTER, null);
    sendSotw("1", wrapped("a", cluster("a"), true), wrapped("b", cluster("b"), false));
    await().atMost(WAIT).until(() -> updates.size() == 1);
    assertThat(updates.peek().resources()).containsOnlyKeys("a", "b");

    // A heartbeat for "a" is no removal (state of the world leaves out only what is gone).
    sendSotw("2", heartbeat("a"), wrapped("b", cluster("b"), false));
    await().atMost(WAIT).until(() -> updates.size() == 2);
    ResourceHandler.Update second = List.copyOf(updates).get(1);
    assertThat(second.resources()).containsOnlyKeys("b");
    assertThat(second.removed()).isEmpty();

    // No more heartbeats: "a" expires and is removed as if the control plane had left it out; "b" has no TTL.
    await().atMost(WAIT).until(() -> updates.size() == 3);
    ResourceHandler.Update expired = List.copyOf(updates).get(2);
    assertThat(expired.resources()).isEmpty();
    assertThat(expired.removed()).containsExactly("a");
  }

  @Test
  void sotwResourceResentWithoutTtlDoesNotExpire() throws Exception {
    start(AdsClient.Protocol.SOTW, XdsResourceType.CLUSTER, null);
    sendSotw("1", wrapped("a", cluster("a"), true));
    await().atMost(WAIT).until(() -> updates.size() == 1);
    sendSotw("2", Any.pack(cluster("a")));
    await().atMost(WAIT).until(() -> updates.size() == 2);
    // Past the first TTL: a marker response shows the control thread ran after it, with no expiry between.
    TimeUnit.MILLISECONDS.sleep(400);
    sendSotw("3", Any.pack(cluster("a")));
    await().atMost(WAIT).until(() -> updates.size() == 3);
    assertThat(updates).allSatisfy(u -> assertThat(u.removed()).isEmpty());
  }

  @Test
  void deltaEndpointExpiryEmptiesTheAssignment() throws Exception {
    start(AdsClient.Protocol.DELTA, XdsResourceType.ENDPOINT, Set.of("svc"));
    ClusterLoadAssignment cla = ClusterLoadAssignment.newBuilder().setClusterName("svc")
        .addEndpoints(LocalityLbEndpoints.getDefaultInstance()).build();
    ads.delta().onNext(DeltaDiscoveryResponse.newBuilder().setSystemVersionInfo("1").setNonce("1")
        .setTypeUrl(XdsResourceType.ENDPOINT.typeUrl())
        .addResources(Resource.newBuilder().setName("svc").setVersion("1").setTtl(TTL).setResource(Any.pack(cla)))
        .build());
    await().atMost(WAIT).until(() -> updates.size() == 2);
    ResourceHandler.Update expired = List.copyOf(updates).get(1);
    assertThat(expired.removed()).isEmpty();
    assertThat(expired.resources()).containsOnlyKeys("svc");
    assertThat(((ClusterLoadAssignment) expired.resources().get("svc")).getEndpointsCount()).isZero();
  }
}
