package dev.sluice.xds;

import static dev.sluice.testing.XdsProtos.ads;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.AdsBootstrap;
import dev.sluice.testing.TestBackend;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.Vhds;
import io.envoyproxy.envoy.extensions.filters.http.on_demand.v3.OnDemand;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * VHDS end to end: a full server whose listener (LDS) uses route configuration {@code rc} (RDS)
 * with {@code vhds} over a delta ADS stream, served by a scripted ADS server; real backends; curl
 * as the client (it sets the Host header). Virtual hosts pushed by the server route; with the
 * {@code on_demand} filter a request for an unknown host waits while {@code rc/<host>} is
 * subscribed and is routed by the virtual host the server answers with (by name or alias), or gets
 * 404 when the server has none; without the filter nothing waits.
 */
class VhdsIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final java.util.concurrent.ExecutorService clients = closing(java.util.concurrent.Executors.newCachedThreadPool());

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    closeables.add(c);
    return c;
  }

  /** Listeners over ADS (no CDS: the scripted server serves none), and two static clusters a and b. */
  private static String bootstrap(String apiType, int adsPort, int portA, int portB) {
    return AdsBootstrap.toPort(adsPort).node("vhds-test", "test").apiType(apiType).withoutCds()
        .staticCluster("a", portA).staticCluster("b", portB).yaml();
  }

  private static Listener listener(boolean onDemand) {
    HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder().setStatPrefix("in")
        .setRds(Rds.newBuilder().setRouteConfigName("rc").setConfigSource(ads()));
    if (onDemand) {
      hcm.addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.on_demand")
          .setTypedConfig(Any.pack(OnDemand.getDefaultInstance())));
    }
    hcm.addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router")
        .setTypedConfig(Any.pack(Router.getDefaultInstance())));
    return Listener.newBuilder().setName("l")
        .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(0)))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm.build()))))
        .build();
  }

  private static VirtualHost vhost(String name, String cluster, String... domains) {
    return VirtualHost.newBuilder().setName(name).addAllDomains(List.of(domains))
        .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
            .setRoute(RouteAction.newBuilder().setCluster(cluster)))
        .build();
  }

  /** Route configuration rc: one RDS virtual host (base.local to a), its other virtual hosts over VHDS. */
  private static RouteConfiguration rc(String baseCluster) {
    return RouteConfiguration.newBuilder().setName("rc")
        .setVhds(Vhds.newBuilder().setConfigSource(ads()))
        .addVirtualHosts(vhost("base", baseCluster, "base.local"))
        .build();
  }

  private static Resource resource(String name, VirtualHost vh, String... aliases) {
    return Resource.newBuilder().setName(name).setVersion("1").addAllAliases(List.of(aliases)).setResource(Any.pack(vh)).build();
  }

  /** The backend that answered (200), or the status code; curl sets the Host header. */
  private static String answer(int port, String host) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("curl", "-sS", "-i", "--max-time", "15", "-H", "Host: " + host,
        "http://127.0.0.1:" + port + "/").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return "curl did not finish";
    }
    String[] lines = out.split("\r\n");
    String status = lines[0].split(" ")[1];
    if (!status.equals("200")) {
      return status;
    }
    for (String line : lines) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("x-backend:")) {
        return line.substring("x-backend:".length()).trim();
      }
    }
    return "200 without x-backend";
  }

  /** A request on its own thread (each waits on its own curl). */
  private CompletableFuture<String> answerAsync(int port, String host) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return answer(port, host);
      } catch (Exception e) {
        return e.toString();
      }
    }, clients);
  }

  private static long counter(Server s, String name) {
    return s.stats().counter(name).value();
  }

  private Server start(boolean onDemand, ScriptedAdsServer ads, TestBackend a, TestBackend b) {
    ads.set(XdsResourceType.LISTENER, "1", listener(onDemand));
    ads.set(XdsResourceType.ROUTE, "1", rc("a"));
    return closing(TestServers.start(bootstrap("DELTA_GRPC", ads.port(), a.port(), b.port())));
  }

  @Test
  void pushedVirtualHostsRouteAndFollowUpdatesAndRemovals() throws Exception {
    TestBackend a = closing(new TestBackend("a"));
    TestBackend b = closing(new TestBackend("b"));
    ScriptedAdsServer ads = closing(ScriptedAdsServer.start());
    ads.set(XdsResourceType.VIRTUAL_HOST, "1", vhost("rc/eager", "b", "eager.local"));
    Server s = start(false, ads, a, b);
    int port = s.listenerPort("l");

    assertThat(answer(port, "base.local")).isEqualTo("a");
    await().atMost(WAIT).untilAsserted(() -> assertThat(answer(port, "eager.local")).isEqualTo("b"));
    // The first VHDS request names nothing: the server sends the virtual hosts it chooses.
    assertThat(ads.deltaRequests().stream().filter(r -> r.getTypeUrl().equals(XdsResourceType.VIRTUAL_HOST.typeUrl()))
        .findFirst().orElseThrow().getResourceNamesSubscribeList()).isEmpty();
    // Without the on_demand filter an unknown host is answered at once, nothing subscribed.
    assertThat(answer(port, "unknown.local")).isEqualTo("404");
    assertThat(ads.deltaSubscriptions(XdsResourceType.VIRTUAL_HOST, "rc/unknown.local")).isZero();

    // A VHDS virtual host survives an RDS update of its route configuration.
    ads.set(XdsResourceType.ROUTE, "2", rc("b"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(answer(port, "base.local")).isEqualTo("b"));
    assertThat(answer(port, "eager.local")).isEqualTo("b");

    // Replaced (same resource), added, and a bad one NACKed by name while the rest apply.
    ads.set(XdsResourceType.VIRTUAL_HOST, "2", vhost("rc/eager", "a", "eager.local"),
        vhost("rc/second", "b", "second.local"), vhost("rc/bad", "b", "base.local"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(ads.nacks()).anySatisfy(m -> assertThat(m)
        .contains("virtual host(s) rc/bad").contains("Duplicate entry of domain base.local")));
    assertThat(answer(port, "eager.local")).isEqualTo("a");
    assertThat(answer(port, "second.local")).isEqualTo("b");
    assertThat(answer(port, "base.local")).isEqualTo("b");

    // Removed (delta removed_resources).
    ads.set(XdsResourceType.VIRTUAL_HOST, "3", vhost("rc/second", "b", "second.local"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(answer(port, "eager.local")).isEqualTo("404"));
    assertThat(answer(port, "second.local")).isEqualTo("b");

    assertThat(counter(s, "http.in.vhds.rc.config_reload")).isGreaterThanOrEqualTo(3);
    assertThat(counter(s, "http.in.vhds.rc.update_rejected")).isEqualTo(1);
    String dump = dump(s);
    assertThat(dump).contains("\"dynamic_route_configs\"").contains("second.local").contains("base.local")
        .doesNotContain("eager.local").contains("\"vhds\"");
  }

  private static String dump(Server s) throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + s.adminPort() + "/config_dump"))
        .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void onDemandRequestWaitsForItsVirtualHost() throws Exception {
    TestBackend a = closing(new TestBackend("a"));
    TestBackend b = closing(new TestBackend("b"));
    ScriptedAdsServer ads = closing(ScriptedAdsServer.start());
    ads.set(XdsResourceType.VIRTUAL_HOST, "1");
    Server s = start(true, ads, a, b);
    int port = s.listenerPort("l");
    assertThat(answer(port, "base.local")).as("a known host goes straight through").isEqualTo("a");

    // Three requests for the same unknown host share one subscription and all wait for it.
    List<CompletableFuture<String>> held = List.of(answerAsync(port, "late.local"), answerAsync(port, "late.local"),
        answerAsync(port, "late.local"));
    await().atMost(WAIT).until(() -> ads.deltaSubscriptions(XdsResourceType.VIRTUAL_HOST, "rc/late.local") > 0);
    await().atMost(WAIT).until(() -> s.stats().gauge("http.in.downstream_rq_active").value() == 3);
    assertThat(held).noneMatch(CompletableFuture::isDone);
    ads.pushDelta(XdsResourceType.VIRTUAL_HOST, "2", List.of(resource("rc/late.local", vhost("rc/late.local", "b", "late.local"))),
        List.of());
    for (CompletableFuture<String> f : held) {
      assertThat(f.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("b");
    }
    assertThat(ads.deltaSubscriptions(XdsResourceType.VIRTUAL_HOST, "rc/late.local")).isEqualTo(1);
    // Now held: routed with no further subscription.
    assertThat(answer(port, "late.local")).isEqualTo("b");
    assertThat(ads.deltaSubscriptions(XdsResourceType.VIRTUAL_HOST, "rc/late.local")).isEqualTo(1);

    // The server has no such virtual host (removed_resources): 404 at once, and unsubscribed.
    CompletableFuture<String> unknown = answerAsync(port, "nope.local");
    await().atMost(WAIT).until(() -> ads.deltaSubscriptions(XdsResourceType.VIRTUAL_HOST, "rc/nope.local") > 0);
    long before = System.nanoTime();
    ads.pushDelta(XdsResourceType.VIRTUAL_HOST, "3", List.of(), List.of("rc/nope.local"));
    assertThat(unknown.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("404");
    assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(VhdsApplier.DEFAULT_ON_DEMAND_TIMEOUT);
    await().atMost(WAIT).until(() -> ads.deltaUnsubscriptions(XdsResourceType.VIRTUAL_HOST, "rc/nope.local") > 0);

    // The same answered as a resource without a body whose aliases name the host.
    CompletableFuture<String> empty = answerAsync(port, "none.local");
    await().atMost(WAIT).until(() -> ads.deltaSubscriptions(XdsResourceType.VIRTUAL_HOST, "rc/none.local") > 0);
    ads.pushDelta(XdsResourceType.VIRTUAL_HOST, "4",
        List.of(Resource.newBuilder().setName("rc/none.local").addAliases("rc/none.local").build()), List.of());
    assertThat(empty.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("404");

    // Answered by a virtual host of another name that lists the requested one among its aliases.
    CompletableFuture<String> alias = answerAsync(port, "alias.local");
    await().atMost(WAIT).until(() -> ads.deltaSubscriptions(XdsResourceType.VIRTUAL_HOST, "rc/alias.local") > 0);
    ads.pushDelta(XdsResourceType.VIRTUAL_HOST, "5",
        List.of(resource("rc/shared", vhost("shared", "a", "shared.local", "alias.local"), "rc/alias.local")), List.of());
    assertThat(alias.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("a");
    assertThat(answer(port, "shared.local")).isEqualTo("a");

    assertThat(counter(s, "http.in.vhds.rc.config_reload")).isEqualTo(2);
    assertThat(dump(s)).contains("late.local").contains("shared.local").doesNotContain("nope.local");
  }

  @Test
  void stateOfTheWorldAdsCannotCarryVhds() throws Exception {
    TestBackend a = closing(new TestBackend("a"));
    ScriptedAdsServer ads = closing(ScriptedAdsServer.start());
    ads.set(XdsResourceType.LISTENER, "1", listener(true));
    ads.set(XdsResourceType.ROUTE, "1", rc("a"));
    closing(new Server(TestServers.options(), TestServers.bootstrap(bootstrap("GRPC", ads.port(), a.port(), a.port()))).start());
    await().atMost(WAIT).untilAsserted(() -> assertThat(ads.nacks()).anySatisfy(m -> assertThat(m)
        .contains("route configuration(s) rc").contains("vhds.config_source").contains("delta")));
    assertThat(ads.sotwRequests()).noneMatch(r -> r.getTypeUrl().equals(XdsResourceType.VIRTUAL_HOST.typeUrl()));
  }
}
