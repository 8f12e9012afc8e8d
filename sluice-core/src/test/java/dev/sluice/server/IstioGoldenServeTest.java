package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.config.BootstrapLoader;
import dev.sluice.config.ProtoTypes;
import dev.sluice.testing.TestBackend;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's rendered bootstraps really start: the admin answers, the Prometheus listener (15090)
 * serves {@code /stats/prometheus} from the admin through the compressors, and the readiness
 * listener (15021) forwards {@code /healthz/ready} to pilot-agent (here a test backend). Only what
 * a test must change is rewritten: listener ports to 0 on loopback, the admin port to a free one
 * (the prometheus_stats cluster points at it), the agent cluster to the backend, the pipe paths
 * (relative to pilot-agent's working directory {@code /}) into a temp dir, and the admin access
 * log into a file. The xds-grpc and sds-grpc clusters are never connected.
 */
class IstioGoldenServeTest {
  private static final Path GOLDENS = Path.of("/work/shared/istio/bootstrap");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path dir;
  private TestBackend agent;

  @BeforeEach
  void agent() throws InterruptedException {
    agent = new TestBackend("pilot-agent");
  }

  @AfterEach
  void stop() {
    agent.close();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static Address loopback(int port) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
        .setAddress("127.0.0.1").setPortValue(port)).build();
  }

  /** The golden as pilot-agent starts it, with the test's addresses. */
  private Bootstrap golden(String name, int adminPort, Path adminLog) throws InvalidProtocolBufferException {
    Bootstrap.Builder b = new BootstrapLoader(ProtoTypes.get())
        .load(GOLDENS.resolve(name), null, true, BootstrapLoader.NodeOverrides.NONE).toBuilder();
    b.getAdminBuilder().setAddress(loopback(adminPort));
    FileAccessLog log = b.getAdmin().getAccessLog(0).getTypedConfig().unpack(FileAccessLog.class);
    b.getAdminBuilder().getAccessLogBuilder(0)
        .setTypedConfig(Any.pack(log.toBuilder().setPath(adminLog.toString()).build()));
    // No control plane here: with the golden's initial_fetch_timeout 0s the server would wait for
    // one before going LIVE, as Envoy does (dev.sluice.xds.XdsIntegrationTest covers ADS).
    b.clearDynamicResources();
    for (var listener : b.getStaticResourcesBuilder().getListenersBuilderList()) {
      listener.setAddress(loopback(0));
    }
    for (var cluster : b.getStaticResourcesBuilder().getClustersBuilderList()) {
      for (var locality : cluster.getLoadAssignmentBuilder().getEndpointsBuilderList()) {
        for (var lb : locality.getLbEndpointsBuilderList()) {
          var address = lb.getEndpointBuilder().getAddressBuilder();
          if (address.hasPipe()) {
            // pilot-agent runs the proxy in '/': "./var/run/..." and "/tmp/XDS" land in the temp dir.
            String path = address.getPipe().getPath().replaceFirst("^\\./", "").replaceFirst("^/", "");
            address.getPipeBuilder().setPath(dir.resolve(path).toString());
          } else if (cluster.getName().equals("prometheus_stats")) {
            lb.getEndpointBuilder().setAddress(loopback(adminPort));
          } else if (cluster.getName().equals("agent")) {
            lb.getEndpointBuilder().setAddress(loopback(agent.port()));
          }
        }
      }
    }
    return b.build();
  }

  private static Options pilotAgentOptions() {
    Options t = TestServers.options();
    return new Options(null, null, 1, t.logLevel(), t.componentLogLevels(), null, null,
        Duration.ofSeconds(45), Options.DrainStrategy.IMMEDIATE, t.parentShutdownTime(),
        Options.IpVersion.V4, Duration.ofMillis(100), true, false, null, null, null, 0,
        Options.Mode.SERVE, java.util.List.of());
  }

  private static HttpResponse<byte[]> get(int port, String path, String... headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    for (int i = 0; i < headers.length; i += 2) {
      r.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @ParameterizedTest
  @CsvSource({"default_golden.json,1", "runningsds_golden.json,3"})
  void goldenStartsAndServesPrometheusAndReadiness(String name, int inactive) throws Exception {
    Path adminLog = dir.resolve("admin.log");
    Bootstrap bootstrap = golden(name, freePort(), adminLog);
    assertThat(new Server(pilotAgentOptions(), bootstrap).validate()).isEmpty();
    try (Server server = TestServers.start(bootstrap, pilotAgentOptions())) {
      assertThat(server.state().name()).isEqualTo("LIVE");
      int prometheus = server.listenerPort("0.0.0.0_15090");
      int readiness = server.listenerPort("0.0.0.0_15021");

      HttpResponse<byte[]> stats = get(prometheus, "/stats/prometheus");
      assertThat(stats.statusCode()).isEqualTo(200);
      String text = new String(stats.body(), StandardCharsets.UTF_8);
      assertThat(text).contains("envoy_server_live{} 1").contains("envoy_server_inactive_extensions{} " + inactive);

      // Prometheus scrapes with gzip: the stats listener's compressor answers compressed.
      HttpResponse<byte[]> gzipped = get(prometheus, "/stats/prometheus", "accept-encoding", "gzip");
      assertThat(gzipped.headers().firstValue("content-encoding")).hasValue("gzip");
      try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped.body()))) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).contains("envoy_server_live{} 1");
      }
      assertThat(server.stats().counter("http.stats.compressor.stats_gzip.gzip.response.compressed").value()).isEqualTo(1);

      HttpResponse<byte[]> ready = get(readiness, "/healthz/ready");
      assertThat(ready.statusCode()).isEqualTo(200);
      assertThat(ready.headers().firstValue("x-backend")).hasValue("pilot-agent");

      assertThat(server.stats().gauge(InactiveExtensions.GAUGE).value()).isEqualTo(inactive);
      String clusters = new String(get(server.adminPort(), "/clusters").body(), StandardCharsets.UTF_8);
      assertThat(clusters).contains("xds-grpc::" + dir.resolve("tmp/XDS") + "::health_flags::healthy");
      // admin.access_log: the admin requests above (scrapes through prometheus_stats, /clusters).
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(Files.exists(adminLog) ? Files.readString(adminLog) : "").contains("\"GET /stats/prometheus HTTP/1.1\" 200"));
    }
  }
}
