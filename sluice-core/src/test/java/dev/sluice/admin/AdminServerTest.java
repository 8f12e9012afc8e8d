package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.sluice.stats.ServerState;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.CommandLineOptions;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdminServerTest {
  private final HttpClient client = HttpClient.newHttpClient();
  private final StatsStore store = new StatsStore();
  private final HealthCheckFlag health = new HealthCheckFlag();
  private final AtomicReference<ServerState> initState = new AtomicReference<>(ServerState.LIVE);
  private final AtomicInteger shutdowns = new AtomicInteger();
  private final AtomicReference<String> drained = new AtomicReference<>("");
  private final SortedMap<String, String> loggers = new TreeMap<>(
      Map.of("admin", "info", "upstream", "warning"));
  private AdminServer admin;

  @BeforeEach
  void start() throws Exception {
    admin = new AdminServer(new InetSocketAddress("127.0.0.1", 0));
    store.counter("cluster.c1.upstream_rq_total").add(5);
    store.gauge("server.live").set(1);
    new StatsHandlers(store, true).register(admin);
    new ServerInfoHandlers(new FakeServerInfo(), health).register(admin);
    new ServerCommandHandlers(new ServerLifecycle() {
      @Override
      public void shutdown() {
        shutdowns.incrementAndGet();
      }

      @Override
      public CompletableFuture<Void> drainListeners(boolean inbound, boolean graceful, boolean skip) {
        drained.set("inbound=" + inbound + " graceful=" + graceful);
        return CompletableFuture.supplyAsync(() -> null,
            CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS));
      }
    }).register(admin);
    new RuntimeHandler(() -> () -> List.of(
        new RuntimeSnapshot.Layer("static_layer_0", Map.of("a.b", "1", "c", "x")),
        new RuntimeSnapshot.Layer("admin", Map.of("a.b", "2")))).register(admin);
    new LoggingHandler(new LogLevels() {
      @Override
      public SortedMap<String, String> levels() {
        return new TreeMap<>(loggers);
      }

      @Override
      public void setAll(String level) {
        loggers.replaceAll((k, v) -> level);
      }

      @Override
      public boolean set(Map<String, String> levelByLogger) {
        if (!loggers.keySet().containsAll(levelByLogger.keySet())) {
          return false;
        }
        loggers.putAll(levelByLogger);
        return true;
      }
    }).register(admin);
    ConfigDumpHandler dump = new ConfigDumpHandler(AdminTypes.defaultRegistryBuilder().build());
    dump.addProvider("clusters", names -> ClustersConfigDump.newBuilder()
        .setVersionInfo("v1")
        .addAllStaticClusters(List.of("c1", "c2").stream().filter(names)
            .map(n -> ClustersConfigDump.StaticCluster.newBuilder()
                .setCluster(Any.pack(Cluster.newBuilder().setName(n).setAltStatName(n + ";")
                    .build())).build())
            .toList())
        .build());
    dump.register(admin);
    admin.start();
  }

  @AfterEach
  void stop() {
    admin.close();
  }

  private HttpResponse<String> get(String pathAndQuery) throws Exception {
    return send("GET", pathAndQuery);
  }

  private HttpResponse<String> post(String pathAndQuery) throws Exception {
    return send("POST", pathAndQuery);
  }

  private HttpResponse<String> send(String method, String pathAndQuery) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + admin.port() + pathAndQuery))
        .method(method, HttpRequest.BodyPublishers.noBody()).build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void boundToAnEphemeralPort() {
    assertThat(admin.port()).isPositive();
    assertThat(admin.boundAddress().getAddress().isLoopbackAddress()).isTrue();
  }

  @Test
  void indexHelpAndUnknownPath() throws Exception {
    HttpResponse<String> index = get("/");
    assertThat(index.statusCode()).isEqualTo(200);
    assertThat(index.headers().firstValue("content-type")).hasValue(AdminResponse.HTML);
    assertThat(index.body()).contains("<a href=\"stats\">stats</a>")
        .contains("<form action=\"quitquitquit\" method=\"post\">");
    HttpResponse<String> help = get("/help");
    assertThat(help.body()).startsWith("admin commands are:\n")
        .contains("  /quitquitquit (POST): exit the server\n")
        .contains("  /ready: print server state, return 200 if LIVE, otherwise return 503\n");
    HttpResponse<String> missing = get("/nope");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).startsWith("invalid path. admin commands are:\n");
  }

  @Test
  void statsEndpointsAndBadQuery() throws Exception {
    assertThat(get("/stats").body())
        .isEqualTo("cluster.c1.upstream_rq_total: 5\nserver.live: 1\n");
    assertThat(get("/stats?usedonly&filter=live").body()).isEqualTo("server.live: 1\n");
    HttpResponse<String> json = get("/stats?format=json&filter=live");
    assertThat(json.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(json.body()).isEqualTo("{\"stats\":[{\"name\":\"server.live\",\"value\":1}]}");
    assertThat(get("/stats/prometheus").body()).isEqualTo("""
        # TYPE envoy_cluster_upstream_rq_total counter
        envoy_cluster_upstream_rq_total{envoy_cluster_name="c1"} 5
        # TYPE envoy_server_live gauge
        envoy_server_live{} 1
        """);
    HttpResponse<String> badRegex = get("/stats?filter=%28");
    assertThat(badRegex.statusCode()).isEqualTo(400);
    assertThat(badRegex.body()).isEqualTo("Invalid re2 regex");
    assertThat(get("/stats?type=Nope").statusCode()).isEqualTo(400);
  }

  @Test
  void mutatingEndpointsRequirePost() throws Exception {
    HttpResponse<String> rejected = get("/quitquitquit");
    assertThat(rejected.statusCode()).isEqualTo(405);
    assertThat(rejected.body()).isEqualTo("Method GET not allowed, POST required.");
    assertThat(shutdowns).hasValue(0);
    HttpResponse<String> quit = post("/quitquitquit");
    assertThat(quit.statusCode()).isEqualTo(200);
    assertThat(quit.body()).isEqualTo("OK\n");
    assertThat(shutdowns).hasValue(1);
  }

  @Test
  void readyFollowsInitStateAndHealthCheck() throws Exception {
    assertThat(get("/ready").statusCode()).isEqualTo(200);
    assertThat(get("/ready").body()).isEqualTo("LIVE\n");
    assertThat(post("/healthcheck/fail").body()).isEqualTo("OK\n");
    assertThat(health.failed()).isTrue();
    HttpResponse<String> draining = get("/ready");
    assertThat(draining.statusCode()).isEqualTo(503);
    assertThat(draining.body()).isEqualTo("DRAINING\n");
    post("/healthcheck/ok");
    initState.set(ServerState.INITIALIZING);
    assertThat(get("/ready").body()).isEqualTo("INITIALIZING\n");
  }

  @Test
  void healthzAliasesActLikeEnvoysHealthcheckPaths() throws Exception {
    assertThat(post("/healthz/fail").body()).isEqualTo("OK\n");
    assertThat(health.failed()).isTrue();
    assertThat(get("/ready").statusCode()).isEqualTo(503);
    assertThat(post("/healthz/ok").body()).isEqualTo("OK\n");
    assertThat(health.failed()).isFalse();
    assertThat(get("/ready").statusCode()).isEqualTo(200);
  }

  @Test
  void serverInfoAndMemory() throws Exception {
    HttpResponse<String> info = get("/server_info");
    assertThat(info.statusCode()).isEqualTo(200);
    assertThat(info.body()).startsWith("{\n \"version\": \"test/1.0\",\n \"state\": \"LIVE\",\n")
        .contains(" \"uptime_current_epoch\": \"60s\",")
        .contains(" \"uptime_all_epochs\": \"120s\",")
        .contains("\"concurrency\": 2")
        .contains("\"id\": \"sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local\"");
    HttpResponse<String> memory = get("/memory");
    assertThat(memory.body()).contains("\"allocated\": \"").contains("\"heap_size\": \"")
        .contains("\"pageheap_unmapped\"").contains("\"total_physical_bytes\"");
    assertThat(get("/hot_restart_version").body()).isEqualTo("disabled");
  }

  @Test
  void drainListenersIsAsync() throws Exception {
    HttpResponse<String> drain = post("/drain_listeners?inboundonly&graceful");
    assertThat(drain.statusCode()).isEqualTo(200);
    assertThat(drain.body()).isEqualTo("OK\n");
    assertThat(drained).hasValue("inbound=true graceful=true");
    assertThat(post("/drain_listeners?skip_exit").statusCode()).isEqualTo(400);
  }

  @Test
  void runtimeLayers() throws Exception {
    assertThat(get("/runtime").body()).isEqualTo("""
        {
         "layers": [
          "static_layer_0",
          "admin"
         ],
         "entries": {
          "a.b": {
           "final_value": "2",
           "layer_values": [
            "1",
            "2"
           ]
          },
          "c": {
           "final_value": "x",
           "layer_values": [
            "x",
            ""
           ]
          }
         }
        }
        """);
  }

  @Test
  void loggingListsAndChangesLevels() throws Exception {
    assertThat(get("/logging").statusCode()).isEqualTo(405);
    assertThat(post("/logging").body())
        .isEqualTo("active loggers:\n  admin: info\n  upstream: warning\n\n");
    assertThat(post("/logging?upstream=debug").body()).contains("  upstream: debug\n");
    assertThat(post("/logging?level=error").body())
        .isEqualTo("active loggers:\n  admin: error\n  upstream: error\n\n");
    HttpResponse<String> bad = post("/logging?level=loud");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).startsWith("error: unknown logger level\n\nusage: /logging?<name>=");
    assertThat(post("/logging?nobody=info").body()).startsWith("error: unknown logger name");
  }

  @Test
  void configDumpResourceMaskAndNameRegex() throws Exception {
    String full = get("/config_dump").body();
    assertThat(full).startsWith("{\n \"configs\": [\n  {\n   \"@type\": "
        + "\"type.googleapis.com/envoy.admin.v3.ClustersConfigDump\",\n   \"version_info\": \"v1\",");
    assertThat(full).contains("\"alt_stat_name\": \"c2;\"");

    String resource = get("/config_dump?resource=static_clusters&mask=cluster.name").body();
    assertThat(resource).contains("\"@type\": \"type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster\"")
        .contains("\"name\": \"c1\"").doesNotContain("alt_stat_name");

    String one = get("/config_dump?name_regex=c2").body();
    assertThat(one).contains("\"name\": \"c2\"").doesNotContain("\"name\": \"c1\"");

    assertThat(get("/config_dump?mask=version_info").body())
        .isEqualTo("{\n \"configs\": [\n  {\n   \"@type\": "
            + "\"type.googleapis.com/envoy.admin.v3.ClustersConfigDump\",\n"
            + "   \"version_info\": \"v1\"\n  }\n ]\n}\n");

    HttpResponse<String> notRepeated = get("/config_dump?resource=version_info");
    assertThat(notRepeated.statusCode()).isEqualTo(400);
    assertThat(notRepeated.body()).isEqualTo(
        "version_info is not a repeated field. Use ?mask=version_info to get only this field");
    assertThat(get("/config_dump?resource=nothing").statusCode()).isEqualTo(404);
    assertThat(get("/config_dump?mask=nonsense").statusCode()).isEqualTo(400);
  }

  @Test
  void asyncHandlerAndFailingHandler() throws Exception {
    admin.register("/slow", "answers later", false, r -> CompletableFuture.supplyAsync(
        () -> AdminResponse.ok("late\n"), CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS)));
    admin.register("/broken", "throws", false, r -> {
      throw new IllegalStateException("boom");
    });
    assertThat(get("/slow").body()).isEqualTo("late\n");
    assertThat(get("/broken").statusCode()).isEqualTo(500);
    assertThat(admin.register("/slow", "again", false, r -> null)).isFalse();
    assertThat(admin.register("/a?b", "bad", false, r -> null)).isFalse();
  }

  @Test
  void curlSeesTheSameAnswers() throws Exception {
    Path curl = Path.of("/usr/bin/curl");
    if (!Files.isExecutable(curl)) {
      return; // curl is optional here; the HttpClient tests above cover the same paths
    }
    assertThat(run(curl.toString(), "-s", "-w", "%{http_code}",
        "http://127.0.0.1:" + admin.port() + "/ready")).isEqualTo("LIVE\n200");
    assertThat(run(curl.toString(), "-s", "-w", "%{http_code}",
        "http://127.0.0.1:" + admin.port() + "/healthcheck/fail")).endsWith("405");
    assertThat(run(curl.toString(), "-s", "-X", "POST",
        "http://127.0.0.1:" + admin.port() + "/healthcheck/fail")).isEqualTo("OK\n");
    assertThat(health.failed()).isTrue();
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  private final class FakeServerInfo implements ServerInfoSource {
    private final Instant now = Instant.parse("2025-01-01T00:02:00Z");

    @Override
    public String version() {
      return "test/1.0";
    }

    @Override
    public String hotRestartVersion() {
      return "disabled";
    }

    @Override
    public ServerState initState() {
      return initState.get();
    }

    @Override
    public Instant startTimeCurrentEpoch() {
      return now.minusSeconds(60);
    }

    @Override
    public Instant startTimeFirstEpoch() {
      return now.minusSeconds(120);
    }

    @Override
    public CommandLineOptions commandLineOptions() {
      return CommandLineOptions.newBuilder().setConcurrency(2).build();
    }

    @Override
    public Node node() {
      return Node.newBuilder().setId("sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local").build();
    }

    @Override
    public Instant now() {
      return now;
    }
  }
}
