package dev.sluice.it.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.server.Options;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Listener drains ({@code /drain_listeners?graceful}) under {@code --drain-strategy immediate} and
 * {@code gradual}, and Envoy's drain close while {@code /healthcheck/fail} is active, seen from
 * real HTTP/1.1 and HTTP/2 (prior knowledge) clients of a full server.
 */
class DrainEndToEndTest {
  private static final String DRAIN_CLOSE = "http.ingress.downstream_cx_drain_close";
  private final HttpClient admin = HttpClient.newHttpClient();
  private HoldingBackend backend;
  private @Nullable Server server;

  @BeforeEach
  void startBackend() throws IOException {
    backend = new HoldingBackend();
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
    backend.close();
  }

  private Server start(Options.DrainStrategy strategy, Duration drainTime) {
    Options d = TestServers.options(1, drainTime);
    Options o = new Options(null, null, 1, d.logLevel(), Map.of(), null, null, drainTime, strategy,
        d.parentShutdownTime(), d.localAddressIpVersion(), d.fileFlushInterval(), false, false, null, null,
        null, 0, Options.Mode.SERVE, List.of());
    server = TestServers.start(TestServers.bootstrap(config()), o);
    return server;
  }

  /** Listener "http" (codec AUTO: HTTP/1.1 and h2c) and "modify_only" (drain_type MODIFY_ONLY), both to the backend. */
  private String config() {
    return """
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
          - name: backend
            type: STATIC
            connect_timeout: 5s
            load_assignment:
              cluster_name: backend
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
          listeners:
          - %s
          - %s
        """.formatted(backend.port(), listener("http", "ingress", ""), listener("modify_only", "modify", "drain_type: MODIFY_ONLY"));
  }

  private static String listener(String name, String statPrefix, String extra) {
    return """
        name: %s
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            %s
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %s
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        route: {cluster: backend, timeout: 30s}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        """.formatted(name, extra, statPrefix).stripTrailing();
  }

  private void post(String path) throws Exception {
    HttpResponse<String> r = admin.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  private long counter(String name) {
    return server.stats().counter(name).value();
  }

  // ---------------------------------------------------------------- immediate

  @Test
  void immediateDrainClosesIdleHttp1AtOnceAndEndsBusyOnesWithConnectionClose() throws Exception {
    start(Options.DrainStrategy.IMMEDIATE, Duration.ofSeconds(60));
    int port = server.listenerPort("http");
    try (Http1 idle = new Http1(port); Http1 busy = new Http1(port)) {
      assertThat(idle.get("/first").headers()).doesNotContainKey("connection");
      busy.send("/hold");
      backend.awaitHeld(1);

      post("/drain_listeners?graceful");

      // The idle connection closes at once (long before the 60 s drain time ends).
      assertThat(idle.closedByPeer()).isTrue();
      // The busy one finishes its response, marked as the connection's last.
      backend.release();
      Http1.Response last = busy.read();
      assertThat(last.status()).isEqualTo(200);
      assertThat(last.headers()).containsEntry("connection", "close");
      assertThat(busy.closedByPeer()).isTrue();
      assertThat(counter(DRAIN_CLOSE)).isEqualTo(2);
    }
  }

  @Test
  void immediateDrainSendsGoAwayToHttp2AndTheInFlightStreamCompletes() throws Exception {
    start(Options.DrainStrategy.IMMEDIATE, Duration.ofSeconds(60));
    try (RawH2 h2 = new RawH2(server.listenerPort("http"))) {
      h2.autoWindowUpdate = false; // tiny bodies; the proxy may close right after the last one
      h2.request(1, "GET", "/hold", true);
      backend.awaitHeld(1);

      post("/drain_listeners?graceful");

      assertThat(h2.readUntil(() -> h2.goAwayCode >= 0)).isTrue();
      assertThat(h2.goAwayCode).isZero(); // NO_ERROR
      assertThat(h2.goAwayLastStream).isEqualTo(1);
      assertThat(h2.stream(1).done()).isFalse();
      backend.release();
      RawH2.Stream s = h2.await(1);
      assertThat(s.status()).isEqualTo(200);
      assertThat(s.bodyText()).isEqualTo("ok /hold");
      assertThat(s.ended).isTrue();
      assertThat(h2.awaitClose()).isTrue();
      assertThat(counter(DRAIN_CLOSE)).isEqualTo(1);
    }
  }

  @Test
  void quitQuitQuitDrainsLikeAGracefulDrainThenExits() throws Exception {
    start(Options.DrainStrategy.IMMEDIATE, Duration.ofSeconds(60));
    int port = server.listenerPort("http");
    try (Http1 idle = new Http1(port); RawH2 h2 = new RawH2(port)) {
      h2.autoWindowUpdate = false;
      assertThat(idle.get("/first").status()).isEqualTo(200);
      h2.request(1, "GET", "/hold", true);
      backend.awaitHeld(1);

      post("/quitquitquit");

      assertThat(idle.closedByPeer()).isTrue();
      assertThat(h2.readUntil(() -> h2.goAwayCode >= 0)).isTrue();
      backend.release();
      assertThat(h2.await(1).status()).isEqualTo(200);
      assertThat(h2.awaitClose()).isTrue();
      // No connection left: the drain ends early and the server exits 0.
      assertThat(server.exitCode().get(10, TimeUnit.SECONDS)).isZero();
    }
  }

  // ---------------------------------------------------------------- gradual

  @Test
  void gradualDrainClosesConnectionsProgressivelyAndAllByTheDeadline() throws Exception {
    // 3 s: a response closes its connection with chance 1/3 in the first second, 2/3 in the
    // second, always in the third; connections still open at 3 s are closed by the listener.
    Duration drainTime = Duration.ofSeconds(3);
    start(Options.DrainStrategy.GRADUAL, drainTime);
    int port = server.listenerPort("http");
    int busyCount = 8;
    List<Http1> busy = new ArrayList<>();
    List<Http1> idle = new ArrayList<>();
    ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    try {
      for (int i = 0; i < busyCount; i++) {
        busy.add(new Http1(port));
      }
      for (int i = 0; i < 2; i++) {
        idle.add(new Http1(port));
        assertThat(idle.get(i).get("/idle").status()).isEqualTo(200);
      }
      post("/drain_listeners?graceful");
      long drainStart = System.nanoTime();
      AtomicInteger keptAliveAfterDrain = new AtomicInteger();
      List<Future<Long>> closedAfter = new ArrayList<>();
      for (Http1 c : busy) {
        // Requests keep flowing on each busy connection until one answer says connection: close.
        closedAfter.add(threads.submit(() -> {
          for (int n = 0; ; n++) {
            Http1.Response r = c.get("/r" + n);
            assertThat(r.status()).isEqualTo(200);
            if ("close".equals(r.headers().get("connection"))) {
              assertThat(c.closedByPeer()).isTrue();
              return System.nanoTime() - drainStart;
            }
            keptAliveAfterDrain.incrementAndGet();
            Thread.sleep(50); // paces the traffic; no state is awaited
          }
        }));
      }
      for (Future<Long> f : closedAfter) {
        assertThat(f.get(10, TimeUnit.SECONDS)).isLessThan(drainTime.toNanos() + TimeUnit.MILLISECONDS.toNanos(500));
      }
      assertThat(counter(DRAIN_CLOSE)).isEqualTo(busyCount);
      // Not all at once: some responses still kept their connection (all 8 closing on their
      // first answer has a chance of (1/3)^8).
      assertThat(keptAliveAfterDrain.get()).isPositive();
      // The idle connections got no response to carry connection: close; the drain's end closes them.
      for (Http1 c : idle) {
        assertThat(c.closedByPeer()).isTrue();
      }
      assertThat(System.nanoTime() - drainStart).isGreaterThanOrEqualTo(drainTime.toNanos() - TimeUnit.MILLISECONDS.toNanos(100));
      assertThat(counter(DRAIN_CLOSE)).isEqualTo(busyCount);
    } finally {
      threads.shutdownNow();
      for (Http1 c : busy) {
        c.close();
      }
      for (Http1 c : idle) {
        c.close();
      }
    }
  }

  // ---------------------------------------------------------------- /healthcheck/fail

  @Test
  void failedHealthCheckDrainClosesOnEachResponseUntilOk() throws Exception {
    start(Options.DrainStrategy.GRADUAL, Duration.ofSeconds(60));
    int port = server.listenerPort("http");
    try (Http1 h1 = new Http1(port); RawH2 h2 = new RawH2(port)) {
      h2.autoWindowUpdate = false;
      assertThat(h1.get("/before").headers()).doesNotContainKey("connection");

      post("/healthcheck/fail");

      // Envoy's drainClose() is true while health check failed (drain_type DEFAULT): the next
      // HTTP/1 response closes its connection, the next HTTP/2 response starts GOAWAY.
      Http1.Response r = h1.get("/during");
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.headers()).containsEntry("connection", "close");
      assertThat(h1.closedByPeer()).isTrue();
      h2.request(1, "GET", "/during", true);
      assertThat(h2.await(1).status()).isEqualTo(200);
      assertThat(h2.readUntil(() -> h2.goAwayCode >= 0)).isTrue();
      assertThat(h2.goAwayCode).isZero();
      assertThat(h2.awaitClose()).isTrue();
      assertThat(counter(DRAIN_CLOSE)).isEqualTo(2);

      post("/healthcheck/ok");
      try (Http1 after = new Http1(port)) {
        assertThat(after.get("/after").headers()).doesNotContainKey("connection");
        assertThat(after.get("/again").headers()).doesNotContainKey("connection");
      }
      assertThat(counter(DRAIN_CLOSE)).isEqualTo(2);
    }
  }

  @Test
  void failedHealthCheckLeavesModifyOnlyListenersAlone() throws Exception {
    start(Options.DrainStrategy.GRADUAL, Duration.ofSeconds(60));
    try (Http1 h1 = new Http1(server.listenerPort("modify_only"))) {
      post("/healthcheck/fail");
      assertThat(h1.get("/a").headers()).doesNotContainKey("connection");
      assertThat(h1.get("/b").headers()).doesNotContainKey("connection");
      assertThat(counter("http.modify.downstream_cx_drain_close")).isZero();
    }
  }

  // ---------------------------------------------------------------- clients and backend

  /** A keep-alive HTTP/1.1 client on a plain socket: one request at a time, responses read by hand. */
  static final class Http1 implements AutoCloseable {
    record Response(int status, Map<String, String> headers, String body) {}

    private final Socket socket;
    private final InputStream in;

    Http1(int port) throws IOException {
      socket = new Socket(InetAddress.getLoopbackAddress(), port);
      socket.setSoTimeout(10_000);
      in = socket.getInputStream();
    }

    void send(String path) throws IOException {
      OutputStream out = socket.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nhost: a\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }

    Response get(String path) throws IOException {
      send(path);
      return read();
    }

    Response read() throws IOException {
      String status = line();
      if (status == null) {
        throw new IOException("connection closed before a response");
      }
      Map<String, String> headers = new LinkedHashMap<>();
      for (String l = line(); l != null && !l.isEmpty(); l = line()) {
        int colon = l.indexOf(':');
        headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
      }
      byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
      return new Response(Integer.parseInt(status.split(" ")[1]), headers, new String(body, StandardCharsets.ISO_8859_1));
    }

    /** True when the proxy closed the connection (EOF or reset) within the read timeout. */
    boolean closedByPeer() throws IOException {
      try {
        return in.read() < 0;
      } catch (SocketTimeoutException e) {
        return false;
      } catch (IOException e) {
        return true;
      }
    }

    private @Nullable String line() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      int c;
      while ((c = in.read()) >= 0) {
        if (c == '\n') {
          String s = b.toString(StandardCharsets.ISO_8859_1);
          return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }
        b.write(c);
      }
      return null;
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /**
   * An HTTP/1.1 keep-alive backend on virtual threads: answers {@code ok <path>} at once, except
   * {@code /hold...}, answered only after {@link #release()}.
   */
  static final class HoldingBackend implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final CountDownLatch released = new CountDownLatch(1);
    private final AtomicInteger held = new AtomicInteger();
    private final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

    HoldingBackend() throws IOException {
      Thread.ofVirtual().start(() -> {
        while (!server.isClosed()) {
          try {
            Socket s = server.accept();
            sockets.add(s);
            Thread.ofVirtual().start(() -> serve(s));
          } catch (IOException e) {
            return; // closed by the test
          }
        }
      });
    }

    int port() {
      return server.getLocalPort();
    }

    void awaitHeld(int n) {
      await().atMost(Duration.ofSeconds(10)).until(() -> held.get() >= n);
    }

    void release() {
      released.countDown();
    }

    private void serve(Socket s) {
      try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
        while (true) {
          String path = null;
          StringBuilder line = new StringBuilder();
          int c;
          while ((c = in.read()) >= 0) {
            if (c == '\n') {
              String l = line.toString().strip();
              line.setLength(0);
              if (l.isEmpty()) {
                break;
              }
              if (path == null) {
                path = l.split(" ")[1];
              }
            } else {
              line.append((char) c);
            }
          }
          if (c < 0 || path == null) {
            return;
          }
          if (path.startsWith("/hold")) {
            held.incrementAndGet();
            released.await();
          }
          byte[] body = ("ok " + path).getBytes(StandardCharsets.ISO_8859_1);
          out.write(("HTTP/1.1 200 OK\r\ncontent-length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          out.write(body);
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // the proxy went away, or the test ended
      }
    }

    @Override
    public void close() throws IOException {
      released.countDown();
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
