package dev.sluice.bookinfo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;

/**
 * Carries one {@link ServiceHandler} on the JDK's HTTP/1.1 server, one virtual thread per request.
 * Writes one access-log line per request. A handler failure becomes a 500 for that request only;
 * requests the JDK server cannot parse are refused by it (400, connection closed) without reaching
 * the handler, so neither stops the service.
 */
public final class BookinfoServer implements AutoCloseable {
  /** Bodies are small JSON or form posts; anything larger is refused rather than buffered. */
  static final int MAX_BODY_BYTES = 1 << 20;

  private final HttpServer server;
  private final ExecutorService executor;

  private BookinfoServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Binds {@code address} (port 0 picks a free port) and starts serving {@code handler}. */
  public static BookinfoServer start(InetSocketAddress address, ServiceHandler handler, AccessLog log) {
    HttpServer server;
    try {
      server = HttpServer.create(address, 128);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext("/", exchange -> serve(exchange, handler, log));
    server.start();
    return new BookinfoServer(server, executor);
  }

  /** The bound address, with the real port when started on port 0. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** {@code http://host:port} for this server, for tests and callers on this machine. */
  public URI baseUri() {
    InetSocketAddress bound = address();
    String host = bound.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return URI.create("http://" + host + ":" + bound.getPort());
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private static void serve(HttpExchange exchange, ServiceHandler handler, AccessLog log) {
    long start = System.nanoTime();
    URI uri = exchange.getRequestURI();
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
    ServiceResponse response;
    try {
      byte[] body = readBody(exchange.getRequestBody());
      response =
          body == null
              ? ServiceResponse.text(413, "request body too large")
              : handler.handle(
                  new ServiceRequest(
                      exchange.getRequestMethod(), path, uri.getRawQuery(), exchange.getRequestHeaders(), body));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      response = ServiceResponse.text(503, "shutting down");
    } catch (Exception e) {
      response = ServiceResponse.text(500, "internal error: " + e.getClass().getSimpleName());
    }
    try (exchange) {
      exchange.getResponseHeaders().set("Content-Type", response.contentType());
      response.headers().forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
      byte[] body = response.body();
      boolean noBody = body.length == 0 || exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(response.status(), noBody ? -1 : body.length);
      if (!noBody) {
        exchange.getResponseBody().write(body);
      }
    } catch (IOException e) {
      // The client went away; nothing to answer. The access line still records the request.
    } finally {
      log.record(exchange.getRequestMethod(), target, response.status(), Duration.ofNanos(System.nanoTime() - start));
    }
  }

  /** The whole body, or null when it exceeds {@link #MAX_BODY_BYTES}. */
  private static byte @Nullable [] readBody(InputStream in) throws IOException {
    byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
    return body.length > MAX_BODY_BYTES ? null : body;
  }
}
