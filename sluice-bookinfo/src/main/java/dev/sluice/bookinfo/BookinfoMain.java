package dev.sluice.bookinfo;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bookinfo <productpage|details|reviews|ratings> [--version V] [--listen ADDR:PORT]
 * [--proxy ADDR:PORT] [--pod-name NAME]}: runs one Bookinfo service until the process is stopped.
 * Prints {@code bookinfo reviews v2 listening on 127.1.0.5:9080} once listening, then one access
 * line per request. Bad arguments: one line on stderr, exit status 2; cannot listen: exit status 1.
 */
public final class BookinfoMain {
  private BookinfoMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println(BookinfoOptions.USAGE);
      return;
    }
    BookinfoOptions options;
    try {
      options = BookinfoOptions.parse(List.of(args), System.getenv());
    } catch (UsageException e) {
      System.err.println("bookinfo: " + e.getMessage());
      System.exit(2);
      return;
    }
    BookinfoServer server;
    try {
      server = start(options, System.out);
    } catch (UncheckedIOException e) {
      System.err.println("bookinfo: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "bookinfo-shutdown"));
    new CountDownLatch(1).await();
  }

  /** Starts the service {@code options} describe, printing the listening line and access lines to {@code out}. */
  public static BookinfoServer start(BookinfoOptions options, PrintStream out) {
    BookinfoServer server = BookinfoServer.start(options.listen(), handler(options), new AccessLog(out));
    out.println(
        "bookinfo " + options.service().label() + " " + options.version() + " listening on "
            + server.baseUri().getAuthority());
    return server;
  }

  /** The service {@code options} describe, with the originals' timeouts. */
  public static ServiceHandler handler(BookinfoOptions options) {
    OutboundClient outbound = new OutboundClient(options.proxy());
    return switch (options.service()) {
      case PRODUCTPAGE ->
          new ProductPageService(
              options.upstreams(), outbound, ProductPageService.DEFAULT_TIMEOUT, SessionCookies.withRandomKey());
      case DETAILS -> new DetailsService(options.externalBookService());
      case REVIEWS ->
          new ReviewsService(
              options.podName(),
              options.clusterName(),
              options.ratingsEnabled(),
              options.starColor(),
              options.upstreams().ratings(),
              outbound,
              ReviewsService.ratingsTimeoutFor(options.starColor()));
      case RATINGS -> RatingsService.of(RatingsService.Version.fromLabel(options.version()).orElseThrow());
    };
  }
}
