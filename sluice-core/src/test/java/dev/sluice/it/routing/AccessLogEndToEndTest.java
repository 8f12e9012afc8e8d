package dev.sluice.it.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.sluice.server.Options;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.TestBackend;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File access logs (Envoy's default text format and a json_format) written by a full server. */
class AccessLogEndToEndTest {
  @TempDir
  Path dir;

  @Test
  void linesShowMethodPathStatusFlagsUpstreamHostAndCluster() throws Exception {
    Path text = dir.resolve("access.log");
    Path json = dir.resolve("access.json");
    int deadPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      deadPort = s.getLocalPort(); // closed again at once: connecting there is refused
    }
    try (TestBackend svc = new TestBackend("svc")) {
      String hcm = """
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: %s
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: %s
              log_format:
                json_format:
                  method: "%%REQ(:METHOD)%%"
                  path: "%%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%%"
                  status: "%%RESPONSE_CODE%%"
                  flags: "%%RESPONSE_FLAGS%%"
                  upstream_host: "%%UPSTREAM_HOST%%"
                  cluster: "%%UPSTREAM_CLUSTER%%"
          route_config:
            name: logged
            virtual_hosts:
            - name: svc
              domains: [svc]
              routes:
              - {match: {prefix: /ok}, route: {cluster: svc, prefix_rewrite: /fine}}
              - {match: {prefix: /empty}, route: {cluster: empty}}
              - {match: {prefix: /dead}, route: {cluster: dead}}
          """.formatted(text, json);
      String empty = """
          - name: empty
            type: STATIC
            connect_timeout: 1s
            load_assignment: {cluster_name: empty}
          """;
      Options options = TestServers.options();
      Options fastFlush = new Options(options.configPath(), options.configYaml(), options.concurrency(),
          options.logLevel(), options.componentLogLevels(), options.logFormat(), options.logPath(),
          options.drainTime(), options.drainStrategy(), options.parentShutdownTime(),
          options.localAddressIpVersion(), Duration.ofMillis(50), options.allowUnknownStaticFields(),
          options.rejectUnknownDynamicFields(), options.serviceNode(), options.serviceCluster(),
          options.serviceZone(), options.baseId(), options.mode(), options.ignoredFlags());
      try (Server server = TestServers.start(TestServers.bootstrap(ProxyConfig.bootstrap(
              List.of(ProxyConfig.staticCluster("svc", "ROUND_ROBIN", svc), empty,
                  ProxyConfig.staticCluster("dead", "ROUND_ROBIN", "", deadPort)),
              List.of(ProxyConfig.httpListener("http", "ingress", hcm)))), fastFlush);
          RawHttp client = new RawHttp(server.listenerPort("http"))) {
        assertThat(client.get("svc", "/ok?x=1").status()).isEqualTo(200);
        assertThat(client.get("elsewhere", "/nothing").status()).isEqualTo(404);
        assertThat(client.send("POST", "svc", "/empty").status()).isEqualTo(503);
        assertThat(client.get("svc", "/dead").status()).isEqualTo(503);

        await().atMost(Duration.ofSeconds(10)).until(() -> lines(text).size() == 4 && lines(json).size() == 4);
        List<String> t = lines(text);
        String start = "^\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\] ";
        String rid = "\"[0-9a-f-]{36}\"";
        assertThat(t.get(0)).matches(start + Pattern.quote("\"GET /ok?x=1 HTTP/1.1\" 200 - 0 ")
            + "\\d+ \\d+ \\d+ \"-\" \"-\" " + rid + " \"svc\" " + Pattern.quote("\"127.0.0.1:" + svc.port() + "\"") + "$");
        assertThat(t.get(1)).matches(start + Pattern.quote("\"GET /nothing HTTP/1.1\" 404 NR 0 0 ")
            + "\\d+ - \"-\" \"-\" " + rid + " \"elsewhere\" \"-\"$");
        assertThat(t.get(2)).matches(start + Pattern.quote("\"POST /empty HTTP/1.1\" 503 UH 0 19 ")
            + "\\d+ - \"-\" \"-\" " + rid + " \"svc\" \"-\"$");
        assertThat(t.get(3)).matches(start + Pattern.quote("\"GET /dead HTTP/1.1\" 503 UF 0 ")
            + "\\d+ \\d+ - \"-\" \"-\" " + rid + " \"svc\" " + Pattern.quote("\"127.0.0.1:" + deadPort + "\"") + "$");

        List<JsonObject> j = lines(json).stream().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
        assertEntry(j.get(0), "GET", "/ok?x=1", 200, "-", "127.0.0.1:" + svc.port(), "svc");
        assertEntry(j.get(1), "GET", "/nothing", 404, "NR", null, null);
        assertEntry(j.get(2), "POST", "/empty", 503, "UH", null, "empty");
        assertEntry(j.get(3), "GET", "/dead", 503, "UF", "127.0.0.1:" + deadPort, "dead");
      }
    }
  }

  private static void assertEntry(JsonObject e, String method, String path, int status, String flags,
      String upstreamHost, String cluster) {
    assertThat(e.get("method").getAsString()).isEqualTo(method);
    assertThat(e.get("path").getAsString()).isEqualTo(path);
    assertThat(e.get("status").getAsJsonPrimitive().isNumber()).as("status is a number: %s", e).isTrue();
    assertThat(e.get("status").getAsInt()).isEqualTo(status);
    assertThat(e.get("flags").getAsString()).isEqualTo(flags);
    if (upstreamHost == null) {
      assertThat(e.get("upstream_host").isJsonNull()).as("upstream_host of %s", e).isTrue();
    } else {
      assertThat(e.get("upstream_host").isJsonNull()).as("upstream_host of %s", e).isFalse();
      assertThat(e.get("upstream_host").getAsString()).isEqualTo(upstreamHost);
    }
    if (cluster == null) {
      assertThat(e.get("cluster").isJsonNull()).as("cluster of %s", e).isTrue();
    } else {
      assertThat(e.get("cluster").isJsonNull()).as("cluster of %s", e).isFalse();
      assertThat(e.get("cluster").getAsString()).isEqualTo(cluster);
    }
  }

  private static List<String> lines(Path p) throws Exception {
    return Files.exists(p) ? Files.readAllLines(p) : List.of();
  }
}
