package dev.sluice.bookinfo;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * With {@code --proxy}, productpage's and reviews' calls go to the proxy in absolute form with the
 * service's name as Host, as a Sluice sidecar used as an HTTP proxy expects them.
 */
class SidecarProxyTest {
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final AccessLog quiet = new AccessLog(new PrintStream(OutputStream.nullOutputStream()));

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  @Test
  void outboundCallsGoThroughTheProxyInAbsoluteFormWithTheServiceHost() throws Exception {
    URI details = start(new DetailsService(false));
    URI ratings = start(RatingsService.of(RatingsService.Version.V1));
    TestProxy proxy = new TestProxy();
    resources.add(proxy);
    String proxyAddress = "127.0.0.1:" + proxy.port();
    URI reviews = startFromCommandLine(proxy, "reviews", "--version", "v2", "--proxy", proxyAddress, "--pod-name", "reviews-v2-abc");
    URI productpage = startFromCommandLine(proxy, "productpage", "--proxy", proxyAddress);
    proxy.routes = Map.of("details:9080", details, "reviews:9080", reviews, "ratings:9080", ratings);

    HttpResponse<String> response = Http.get(productpage.resolve("/productpage"), "x-request-id", "through-proxy");

    BookinfoPage page = BookinfoPage.parse(response.body());
    assertThat(page.starColors()).isEqualTo(Set.of("black"));
    assertThat(page.reviews().getFirst().servedBy()).isEqualTo("reviews-v2-abc");
    assertThat(proxy.seen)
        .containsExactlyInAnyOrder(
            "GET http://details:9080/details/0 Host=details:9080 x-request-id=through-proxy",
            "GET http://reviews:9080/reviews/0 Host=reviews:9080 x-request-id=through-proxy",
            "GET http://ratings:9080/ratings/0 Host=ratings:9080 x-request-id=through-proxy");
  }

  private URI start(ServiceHandler handler) {
    BookinfoServer server = BookinfoServer.start(BookinfoFixture.ANY_LOOPBACK_PORT, handler, quiet);
    resources.add(server);
    return server.baseUri();
  }

  /** Starts a service as BookinfoMain would, default upstream host names, on a free loopback port. */
  private URI startFromCommandLine(TestProxy proxy, String... args) throws UsageException {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--listen", "127.0.0.1:0"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BookinfoServer server =
        BookinfoMain.start(BookinfoOptions.parse(all, Map.of()), new PrintStream(out, true, StandardCharsets.UTF_8));
    resources.add(server);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .startsWith("bookinfo " + args[0] + " ")
        .contains(" listening on 127.0.0.1:" + server.address().getPort() + "\n");
    return server.baseUri();
  }

  /**
   * A forward HTTP proxy for the test: records each request's target and Host, then sends it on
   * to the service its Host names.
   */
  private static final class TestProxy implements AutoCloseable {
    final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
    volatile Map<String, URI> routes = Map.of();
    private final HttpServer server;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    TestProxy() throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
      server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      server.createContext("/", this::forward);
      server.start();
    }

    int port() {
      return server.getAddress().getPort();
    }

    private void forward(HttpExchange exchange) throws IOException {
      try (exchange) {
        URI target = exchange.getRequestURI();
        String host = exchange.getRequestHeaders().getFirst("Host");
        seen.add(
            exchange.getRequestMethod() + " " + target + " Host=" + host + " x-request-id="
                + exchange.getRequestHeaders().getFirst("x-request-id"));
        URI upstream = routes.get(host);
        if (upstream == null) {
          exchange.sendResponseHeaders(404, -1);
          return;
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(upstream.resolve(target.getRawPath()));
        exchange.getRequestHeaders().forEach((name, values) -> {
          if (!Set.of("host", "connection", "content-length").contains(name.toLowerCase())) {
            values.forEach(value -> request.header(name, value));
          }
        });
        HttpResponse<byte[]> response = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        exchange.getResponseHeaders().set("Content-Type", response.headers().firstValue("content-type").orElse("text/plain"));
        exchange.sendResponseHeaders(response.statusCode(), response.body().length == 0 ? -1 : response.body().length);
        exchange.getResponseBody().write(response.body());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }
}
