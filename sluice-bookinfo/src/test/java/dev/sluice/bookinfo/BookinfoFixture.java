package dev.sluice.bookinfo;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The four services on 127.0.0.1, port 0 each, wired to one another by base URI, every one behind a
 * {@link Recorder}; their access lines go to one in-memory log.
 */
final class BookinfoFixture implements AutoCloseable {
  static final InetSocketAddress ANY_LOOPBACK_PORT = new InetSocketAddress("127.0.0.1", 0);

  final Recorder ratings;
  final Recorder reviews;
  final Recorder details;
  final Upstreams upstreams;
  final BookinfoServer productpage;
  private final List<BookinfoServer> servers = new ArrayList<>();
  private final ByteArrayOutputStream logBuffer = new ByteArrayOutputStream();
  final AccessLog log = new AccessLog(new PrintStream(logBuffer, true, StandardCharsets.UTF_8));

  /** All four, reviews at {@code reviewsVersion} (v1, v2 or v3). */
  BookinfoFixture(String reviewsVersion) {
    this(reviewsVersion, new OutboundClient(null), ProductPageService.DEFAULT_TIMEOUT);
  }

  BookinfoFixture(String reviewsVersion, OutboundClient outbound, Duration productPageTimeout) {
    ratings = new Recorder(RatingsService.of(RatingsService.Version.V1));
    URI ratingsUri = start(ratings);
    boolean ratingsEnabled = !reviewsVersion.equals("v1");
    String color = reviewsVersion.equals("v3") ? "red" : "black";
    reviews =
        new Recorder(
            new ReviewsService(
                "reviews-" + reviewsVersion + "-pod",
                "null",
                ratingsEnabled,
                color,
                ratingsUri,
                outbound,
                ReviewsService.ratingsTimeoutFor(color)));
    URI reviewsUri = start(reviews);
    details = new Recorder(new DetailsService(false));
    URI detailsUri = start(details);
    upstreams = new Upstreams(detailsUri, reviewsUri, ratingsUri);
    productpage =
        BookinfoServer.start(
            ANY_LOOPBACK_PORT,
            new ProductPageService(upstreams, outbound, productPageTimeout, SessionCookies.withRandomKey()),
            log);
    servers.add(productpage);
  }

  URI start(ServiceHandler handler) {
    BookinfoServer server = BookinfoServer.start(ANY_LOOPBACK_PORT, handler, log);
    servers.add(server);
    return server.baseUri();
  }

  URI page(String path) {
    return productpage.baseUri().resolve(path);
  }

  String accessLog() {
    return logBuffer.toString(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    servers.forEach(BookinfoServer::close);
  }
}
