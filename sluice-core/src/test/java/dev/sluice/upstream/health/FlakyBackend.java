package dev.sluice.upstream.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * An HTTP/1.1 upstream for health check tests that fails on command: {@code /healthz} answers
 * {@link #healthStatus} (or what {@link #healthScript} says), any other path 200 with the
 * backend's name. It counts traffic and health checks apart and keeps the checks' request headers.
 */
final class FlakyBackend implements AutoCloseable {
  final String name;
  final AtomicInteger healthStatus = new AtomicInteger(200);
  final AtomicInteger requests = new AtomicInteger();
  final AtomicInteger checks = new AtomicInteger();
  final ConcurrentLinkedQueue<String> checkHeaders = new ConcurrentLinkedQueue<>();
  /** Traffic answers carry {@code x-envoy-immediate-health-check-fail} while set. */
  volatile boolean immediateFail;
  /** When set, decides each check's status instead of {@link #healthStatus}. */
  volatile IntSupplier healthScript;
  private final HttpServer server;

  FlakyBackend(String name) throws IOException {
    this(name, null);
  }

  /** With {@code tls}, an HTTPS server. */
  FlakyBackend(String name, javax.net.ssl.@org.jspecify.annotations.Nullable SSLContext tls) throws IOException {
    this.name = name;
    if (tls != null) {
      var https = com.sun.net.httpserver.HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
      server = https;
    } else {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    }
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::handle);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** {@code 127.0.0.1:port}, as /clusters names the host. */
  String address() {
    return "127.0.0.1:" + port();
  }

  private void handle(HttpExchange ex) throws IOException {
    int status = 200;
    if (ex.getRequestURI().getPath().equals("/healthz")) {
      checks.incrementAndGet();
      checkHeaders.add("host=" + ex.getRequestHeaders().getFirst("Host")
          + " user-agent=" + ex.getRequestHeaders().getFirst("User-Agent")
          + " x-check=" + ex.getRequestHeaders().getFirst("X-Check"));
      IntSupplier script = healthScript;
      status = script != null ? script.getAsInt() : healthStatus.get();
    } else {
      requests.incrementAndGet();
      if (immediateFail) {
        ex.getResponseHeaders().add("x-envoy-immediate-health-check-fail", "true");
      }
    }
    byte[] body = name.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("x-backend", name);
    ex.sendResponseHeaders(status, body.length);
    ex.getResponseBody().write(body);
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
