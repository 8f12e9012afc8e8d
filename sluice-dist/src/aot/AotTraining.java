import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The package-time AOT training run (JEP 483 and 514): starts the distribution's own launcher
 * with {@code -XX:AOTCacheOutput=lib/sluice.aot} on a sidecar-like config, sends it representative
 * traffic, stops it with {@code POST /quitquitquit}; the JVM assembles the cache as it exits.
 * Then it records {@code bin/sluice aot-id} (the JVM's version and each jar's name, size and
 * modification time, what the JVM checks) in {@code lib/sluice.aot.id}: the launcher uses the
 * cache only while that still matches. Any failure removes both files and exits 1; the
 * distribution works without them.
 *
 * <p>The config, {@code training-bootstrap.json} beside this file, is Istio's rendered bootstrap
 * ({@code pkg/bootstrap/testdata/default_golden.json}: Prometheus and readiness listeners, stats
 * tag extraction, admin) without its ADS source, plus the sidecar listener {@code 0.0.0.0_9080} of
 * a real config dump (Istio's HTTP filters, access log, retries; its RDS route made static, four
 * Bookinfo services and a passthrough), an inbound-like listener answering directly, reached over
 * an HTTP/2 cluster, and a {@code tcp_proxy} listener. Placeholders {@code "@NAME_PORT@"} and
 * {@code @DIR@} are filled in here with free loopback ports and a temporary directory.
 *
 * <p>Usage (JDK 25 source launcher, run by sluice-dist's pom in {@code package}):
 * {@code java AotTraining.java DIST_DIR TEMPLATE}. Only 127.0.0.1 is used.
 */
public final class AotTraining {
  private static final String HOST = "127.0.0.1";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(240);

  private AotTraining() {}

  public static void main(String[] args) throws Exception {
    System.exit(train(args) ? 0 : 1);
  }

  private static boolean train(String[] args) throws Exception {
    // Virtual hosts are chosen by Host; java.net.http restricts that header unless told.
    System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    Path dist = Path.of(args[0]).toAbsolutePath();
    Path template = Path.of(args[1]);
    Path lib = dist.resolve("lib");
    Path cache = lib.resolve("sluice.aot");
    Path id = lib.resolve("sluice.aot.id");
    Path work = Files.createTempDirectory("sluice-aot-");
    long started = System.nanoTime();
    HttpServer backend = backend();
    Process server = null;
    try {
      clean(lib);
      Map<String, Integer> ports = new LinkedHashMap<>();
      for (String name : List.of("ADMIN", "PROMETHEUS", "READINESS", "HTTP", "INBOUND", "TCP")) {
        ports.put(name, freePort());
      }
      ports.put("BACKEND", backend.getAddress().getPort());
      String config = Files.readString(template).replace("@DIR@", work.toString());
      for (Map.Entry<String, Integer> p : ports.entrySet()) {
        config = config.replace("\"@" + p.getKey() + "_PORT@\"", p.getValue().toString());
      }
      Path bootstrap = Files.writeString(work.resolve("bootstrap.json"), config);

      // pilot-agent's command line for the proxy (two workers), with a short drain.
      ProcessBuilder pb = new ProcessBuilder("bash", dist.resolve("bin/sluice").toString(),
          "-c", bootstrap.toString(), "--concurrency", "2", "--drain-time-s", "1",
          "--drain-strategy", "immediate", "--local-address-ip-version", "v4",
          "--file-flush-interval-msec", "1000", "--disable-hot-restart", "--allow-unknown-static-fields",
          "-l", "warning", "--component-log-level", "misc:error");
      // Without AOT class linking the cached classes load on first use, as without a cache: with it
      // every cached class is loaded at start-up, for a similar start-up CPU saving (-0.7 s
      // either way) but 17 MiB more idle RSS instead of 9 (bench/README.md).
      pb.environment().put("SLUICE_JVM_OPTS", "-XX:AOTCacheOutput=" + cache + " -XX:-AOTClassLinking");
      pb.redirectErrorStream(true).redirectOutput(work.resolve("sluice.log").toFile());
      server = pb.start();

      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10)).build();
      awaitReady(client, ports.get("ADMIN"), server);
      int proxied = traffic(client, ports);
      if (proxied == 0) {
        throw new IllegalStateException("no request through the sidecar listener succeeded");
      }
      send(client, "POST", ports.get("ADMIN"), "/quitquitquit", null);
      if (!server.waitFor(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("the server did not exit within " + EXIT_TIMEOUT);
      }
      if (server.exitValue() != 0 || !Files.isRegularFile(cache)) {
        throw new IllegalStateException("the server exited with " + server.exitValue() + " and no cache");
      }
      Process fingerprint = new ProcessBuilder("bash", dist.resolve("bin/sluice").toString(), "aot-id")
          .redirectOutput(id.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      if (fingerprint.waitFor() != 0) {
        throw new IllegalStateException("bin/sluice aot-id failed");
      }
      System.out.printf("AOT training: %s (%d MiB) from %d proxied requests in %.1f s%n", cache,
          Files.size(cache) >> 20, proxied, (System.nanoTime() - started) / 1e9);
      return true;
    } catch (Exception e) {
      if (server != null) {
        server.descendants().forEach(ProcessHandle::destroyForcibly);
        server.destroyForcibly();
      }
      clean(lib);
      System.err.println("AOT training failed: " + e);
      Path log = work.resolve("sluice.log");
      if (Files.exists(log)) {
        List<String> lines = Files.readAllLines(log);
        lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(System.err::println);
      }
      return false;
    } finally {
      backend.stop(0);
      try (Stream<Path> files = Files.walk(work)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** The cache, the JVM's temporary training record and the fingerprint. */
  private static void clean(Path lib) throws IOException {
    for (String name : List.of("sluice.aot", "sluice.aot.config", "sluice.aot.id")) {
      Files.deleteIfExists(lib.resolve(name));
    }
  }

  /** The upstream of every cluster: answers "ok" to anything (Istio's agent readiness, too). */
  private static HttpServer backend() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(HOST), 0), 64);
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      byte[] body = "ok\n".getBytes(StandardCharsets.US_ASCII);
      exchange.getResponseHeaders().add("content-type", "text/plain");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return server;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      return s.getLocalPort();
    }
  }

  private static void awaitReady(HttpClient client, int admin, Process server) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        throw new IllegalStateException("the server exited with " + server.exitValue() + " before /ready");
      }
      try {
        if (send(client, "GET", admin, "/ready", null).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("not ready within " + READY_TIMEOUT);
  }

  private static HttpResponse<byte[]> send(HttpClient client, String method, int port, String path,
      String host, String... headers) throws IOException, InterruptedException {
    return client.send(request(method, port, path, host, headers), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static HttpRequest request(String method, int port, String path, String host, String... headers) {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://" + HOST + ":" + port + path))
        .timeout(Duration.ofSeconds(30));
    if (host != null) {
      r.header("host", host);
    }
    for (int i = 0; i < headers.length; i += 2) {
      r.header(headers[i], headers[i + 1]);
    }
    byte[] body = method.equals("POST") && path.startsWith("/api") ? new byte[1024] : new byte[0];
    return r.method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofByteArray(body)).build();
  }

  /**
   * What a sidecar serves, a few hundred times so the JIT profiles (JEP 515) see the hot paths:
   * HTTP/1.1 through the outbound listener to each service (GET, POST with a body, concurrent
   * connections), to the HTTP/2 cluster, to the passthrough; TCP through tcp_proxy; Prometheus
   * scrapes with and without compression; the readiness probe; the admin paths Istio polls.
   * Returns how many proxied requests answered 200.
   */
  private static int traffic(HttpClient client, Map<String, Integer> ports) throws Exception {
    int http = ports.get("HTTP");
    int ok = 0;
    List<String> hosts = List.of("productpage.default.svc.cluster.local:9080", "details:9080", "reviews",
        "ratings.default", "grpc.default.svc.cluster.local", "unknown.example.com");
    for (int round = 0; round < 10; round++) {
      List<CompletableFuture<HttpResponse<byte[]>>> batch = new ArrayList<>();
      for (String host : hosts) {
        for (int i = 0; i < 4; i++) {
          batch.add(client.sendAsync(request("GET", http, "/api/v1/items?page=" + i, host,
              "user-agent", "sluice-aot-training", "x-request-id", "aot-" + round + "-" + i),
              HttpResponse.BodyHandlers.ofByteArray()));
        }
        batch.add(client.sendAsync(request("POST", http, "/api/v1/items", host, "content-type", "application/json"),
            HttpResponse.BodyHandlers.ofByteArray()));
      }
      for (CompletableFuture<HttpResponse<byte[]>> f : batch) {
        ok += f.get(60, TimeUnit.SECONDS).statusCode() == 200 ? 1 : 0;
      }
      try (Socket s = new Socket(HOST, ports.get("TCP"))) {
        s.getOutputStream().write("GET /tcp HTTP/1.0\r\nHost: tcp\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        try (InputStream in = s.getInputStream()) {
          in.readAllBytes();
        }
      }
      send(client, "GET", ports.get("PROMETHEUS"), "/stats/prometheus", null);
      send(client, "GET", ports.get("PROMETHEUS"), "/stats/prometheus", null, "accept-encoding", "gzip");
      send(client, "GET", ports.get("READINESS"), "/healthz/ready", null);
    }
    int admin = ports.get("ADMIN");
    for (String path : List.of("/ready", "/server_info", "/stats", "/stats?format=json",
        "/stats?usedonly&filter=cluster_manager.cds.update_success", "/stats/prometheus", "/clusters",
        "/clusters?format=json", "/listeners", "/config_dump", "/certs", "/runtime")) {
      send(client, "GET", admin, path, null);
    }
    return ok;
  }
}
