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
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRds;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SRDS end to end: a full server whose listener (from LDS) routes by scope, its
 * ScopedRouteConfigurations and their RouteConfigurations served over ADS, state of the world and
 * delta, by a scripted ADS server; real backends and a real HTTP client. Requests reach the
 * backend of their {@code x-tenant} scope; scopes are added, re-pointed and removed at run time
 * while requests to a steady scope keep succeeding; a scope whose key another holds is NACKed by
 * name while the old scopes keep serving; /config_dump and the stats show it all.
 */
class SrdsIntegrationTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

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

  private Server start(String apiType, int adsPort, int portA, int portB) {
    return closing(TestServers.start(bootstrap(apiType, adsPort, portA, portB)));
  }

  /** Listeners over ADS (no CDS: the scripted server serves none), and two static clusters a and b. */
  private static String bootstrap(String apiType, int adsPort, int portA, int portB) {
    return AdsBootstrap.toPort(adsPort).node("srds-test", "test").apiType(apiType).withoutCds()
        .staticCluster("a", portA).staticCluster("b", portB).yaml();
  }

  private static Listener listener() {
    HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setStatPrefix("in")
        .setScopedRoutes(ScopedRoutes.newBuilder().setName("tenants")
            .setScopeKeyBuilder(ScopedRoutes.ScopeKeyBuilder.newBuilder().addFragments(FragmentBuilder.newBuilder()
                .setHeaderValueExtractor(FragmentBuilder.HeaderValueExtractor.newBuilder().setName("x-tenant"))))
            .setRdsConfigSource(ads())
            .setScopedRds(ScopedRds.newBuilder().setScopedRdsConfigSource(ads())))
        .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router")
            .setTypedConfig(Any.pack(Router.getDefaultInstance())))
        .build();
    return Listener.newBuilder().setName("l")
        .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(0)))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm))))
        .build();
  }

  private static ScopedRouteConfiguration scope(String name, String key, String routeName) {
    return ScopedRouteConfiguration.newBuilder().setName(name).setRouteConfigurationName(routeName)
        .setKey(ScopedRouteConfiguration.Key.newBuilder().addFragments(
            ScopedRouteConfiguration.Key.Fragment.newBuilder().setStringKey(key))).build();
  }

  private static RouteConfiguration routes(String name, String cluster) {
    return RouteConfiguration.newBuilder().setName(name)
        .addVirtualHosts(VirtualHost.newBuilder().setName("all").addDomains("*")
            .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(RouteAction.newBuilder().setCluster(cluster))))
        .build();
  }

  private HttpResponse<String> get(int port, String path, String tenant) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(WAIT);
    if (tenant != null) {
      r.header("x-tenant", tenant);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The backend that answered (200), or the status code. */
  private String answer(int port, String tenant) throws Exception {
    HttpResponse<String> r = get(port, "/", tenant);
    return r.statusCode() == 200 ? r.headers().firstValue("x-backend").orElse("?") : Integer.toString(r.statusCode());
  }

  private static long counter(Server s, String name) {
    return s.stats().counter(name).value();
  }

  @ParameterizedTest
  @ValueSource(strings = {"GRPC", "DELTA_GRPC"})
  void routesByScopeAndFollowsScopeChanges(String apiType) throws Exception {
    TestBackend a = closing(new TestBackend("a"));
    TestBackend b = closing(new TestBackend("b"));
    ScriptedAdsServer ads = closing(ScriptedAdsServer.start());
    ads.set(XdsResourceType.LISTENER, "1", listener());
    ads.set(XdsResourceType.SCOPED_ROUTE, "1", scope("scope-a", "a", "ra"), scope("scope-b", "b", "rb"));
    ads.set(XdsResourceType.ROUTE, "1", routes("ra", "a"), routes("rb", "b"), routes("rc", "b"), routes("rd", "a"));

    // LIVE only once the listener's scopes and their route configurations have arrived (warming).
    Server s = start(apiType, ads.port(), a.port(), b.port());
    int port = s.listenerPort("l");
    assertThat(answer(port, "a")).isEqualTo("a");
    assertThat(answer(port, "b")).isEqualTo("b");
    assertThat(answer(port, "zzz")).as("no scope with the key").isEqualTo("404");
    assertThat(answer(port, null)).as("no key").isEqualTo("404");
    assertThat(counter(s, "http.in.scoped_rds.tenants.update_success")).isEqualTo(1);
    assertThat(counter(s, "http.in.rds.ra.update_success")).isEqualTo(1);

    // Requests to scope-a keep going while scopes and routes change around it.
    Steady steadyA = new Steady(port, "a", Set.of("a"));

    // A new scope (its route configuration, held by the control plane, follows over RDS).
    ads.set(XdsResourceType.SCOPED_ROUTE, "2", scope("scope-a", "a", "ra"), scope("scope-b", "b", "rb"),
        scope("scope-c", "c", "rc"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(answer(port, "c")).isEqualTo("b"));
    // A scope re-pointed to a route configuration not received yet: its old one serves until it comes.
    Steady steadyB = new Steady(port, "b", Set.of("a", "b"));
    ads.set(XdsResourceType.SCOPED_ROUTE, "3", scope("scope-a", "a", "ra"), scope("scope-b", "b", "rd"),
        scope("scope-c", "c", "rc"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(answer(port, "b")).isEqualTo("a"));
    assertThat(steadyB.stop()).as("requests to the re-pointed scope").isEmpty();
    // A scope's route configuration changed.
    ads.set(XdsResourceType.ROUTE, "2", routes("ra", "a"), routes("rb", "b"), routes("rc", "a"), routes("rd", "a"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(answer(port, "c")).isEqualTo("a"));
    // A scope removed (SotW: left out; delta: removed_resources).
    ads.set(XdsResourceType.SCOPED_ROUTE, "4", scope("scope-a", "a", "ra"), scope("scope-c", "c", "ra"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(answer(port, "b")).isEqualTo("404"));

    // A scope taking a key another holds: NACKed by name; the old scopes keep serving.
    ads.set(XdsResourceType.SCOPED_ROUTE, "5", scope("scope-a", "a", "ra"), scope("scope-c", "c", "ra"),
        scope("scope-dup", "a", "rb"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(ads.nacks()).anySatisfy(m -> assertThat(m)
        .contains("scoped route configuration(s) scope-dup").contains("scope key conflict")));
    assertThat(answer(port, "a")).isEqualTo("a");
    assertThat(answer(port, "c")).isEqualTo("a");
    assertThat(counter(s, "http.in.scoped_rds.tenants.update_rejected")).isEqualTo(1);

    assertThat(steadyA.stop()).as("requests to the steady scope during the changes").isEmpty();

    String dump = get(s.adminPort(), "/config_dump", null).body();
    assertThat(dump).contains("envoy.admin.v3.ScopedRoutesConfigDump").contains("\"dynamic_scoped_route_configs\"")
        .contains("\"tenants\"").contains("\"scope-a\"").contains("\"scope-c\"").doesNotContain("\"scope-b\"")
        .contains("\"error_state\"").contains("scope-dup");
    assertThat(counter(s, "http.in.scoped_rds.tenants.config_reload")).isGreaterThanOrEqualTo(4);
  }

  /** A client sending requests for one tenant in a loop, recording every answer not allowed. */
  private final class Steady {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger ok = new AtomicInteger();
    private final List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Thread thread;

    Steady(int port, String tenant, Set<String> allowed) {
      thread = Thread.ofPlatform().start(() -> {
        while (running.get() && ok.get() < 10_000) {
          try {
            String got = answer(port, tenant);
            if (allowed.contains(got)) {
              ok.incrementAndGet();
            } else {
              failures.add(got);
            }
          } catch (Exception e) {
            failures.add(e.toString());
          }
        }
      });
    }

    /** Stops after at least a few requests; the answers that were not allowed. */
    List<String> stop() throws InterruptedException {
      await().atMost(WAIT).until(() -> ok.get() >= 5 || !failures.isEmpty());
      running.set(false);
      thread.join();
      return failures;
    }
  }

  @org.junit.jupiter.api.Test
  void listenerWarmsUntilItsScopesAndTheirRoutesArrive() throws Exception {
    TestBackend a = closing(new TestBackend("a"));
    ScriptedAdsServer ads = closing(ScriptedAdsServer.start());
    ads.set(XdsResourceType.LISTENER, "1", listener());
    Server s = closing(new Server(TestServers.options(),
        TestServers.bootstrap(bootstrap("GRPC", ads.port(), a.port(), a.port()))).start());

    await().atMost(WAIT).until(() -> ads.sotwRequests().stream()
        .anyMatch(r -> r.getTypeUrl().equals(XdsResourceType.SCOPED_ROUTE.typeUrl())));
    assertThat(s.live()).as("no scopes yet").isNotDone();
    ads.set(XdsResourceType.SCOPED_ROUTE, "1", scope("scope-a", "a", "ra"));
    await().atMost(WAIT).until(() -> ads.sotwRequests().stream()
        .anyMatch(r -> r.getTypeUrl().equals(XdsResourceType.ROUTE.typeUrl()) && r.getResourceNamesList().contains("ra")));
    assertThat(s.live()).as("the scope's route configuration not there yet").isNotDone();
    ads.set(XdsResourceType.ROUTE, "1", routes("ra", "a"));
    s.awaitLive(TestServers.START_TIMEOUT);
    assertThat(answer(s.listenerPort("l"), "a")).isEqualTo("a");
  }
}
