package dev.sluice.bookinfo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The services' outbound HTTP/1.1 calls. With a proxy (the workload's Sluice sidecar) every call is
 * sent to it in absolute form ({@code GET http://reviews:9080/reviews/0}, {@code Host: reviews:9080})
 * and the proxy routes by that host, as intercepted traffic would be; without one the host name is
 * resolved and called directly.
 */
public final class OutboundClient {
  /** What an upstream answered. */
  public record Reply(int status, String body) {}

  private final HttpClient client;

  public OutboundClient(@Nullable InetSocketAddress proxy) {
    HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
    if (proxy != null) {
      builder.proxy(ProxySelector.of(proxy));
    }
    this.client = builder.build();
  }

  /**
   * GETs {@code uri} with {@code headers}, giving up after {@code timeout}. Empty when the call
   * failed without an answer (refused, reset, timed out), as the originals treat a transport error.
   */
  public Optional<Reply> get(URI uri, Map<String, String> headers, Duration timeout) throws InterruptedException {
    try {
      HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout).GET();
      headers.forEach(request::header);
      HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return Optional.of(new Reply(response.statusCode(), response.body()));
    } catch (IOException | IllegalArgumentException e) {
      // IllegalArgumentException: a propagated header value the client refuses to send.
      return Optional.empty();
    }
  }
}
