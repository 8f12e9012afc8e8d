package dev.sluice.it.bookinfo;

import dev.sluice.bookinfo.BookinfoPage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** The demo's ingress gateway as a browser sees it on 127.0.0.1: the product page, signing in. */
final class Gateway {
  private final URI base;
  private final URI page;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

  /** The gateway reached at 127.0.0.1:{@code port} (the gateway's own listener, or the netns demo's forward). */
  Gateway(int port) {
    this.base = URI.create("http://127.0.0.1:" + port);
    this.page = base.resolve("/productpage");
  }

  /** One product page as shown, and how long it took. */
  record Fetched(BookinfoPage page, Duration took) {}

  /** GET /productpage, with the session cookie when {@code cookie} is not null; must answer 200. */
  Fetched productPage(@Nullable String cookie) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(page).timeout(Duration.ofSeconds(30)).GET();
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    long start = System.nanoTime();
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    if (r.statusCode() != 200) {
      throw new AssertionError("GET " + page + " answered " + r.statusCode() + ": " + r.body());
    }
    return new Fetched(BookinfoPage.parse(r.body()), took);
  }

  BookinfoPage productPage() throws IOException, InterruptedException {
    return productPage(null).page();
  }

  /**
   * Signs in as the page's form does ({@code POST /login}, any password) and returns the
   * {@code Cookie} header value of the session it set.
   */
  String login(String user) throws IOException, InterruptedException {
    HttpRequest req = HttpRequest.newBuilder(base.resolve("/login")).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/x-www-form-urlencoded").header("Referer", page.toString())
        .POST(HttpRequest.BodyPublishers.ofString("username=" + user + "&passwd=password")).build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 302) {
      throw new AssertionError("POST /login answered " + r.statusCode() + ": " + r.body());
    }
    String setCookie = r.headers().firstValue("set-cookie")
        .orElseThrow(() -> new AssertionError("POST /login set no cookie: " + r.headers().map()));
    return setCookie.substring(0, setCookie.indexOf(';') < 0 ? setCookie.length() : setCookie.indexOf(';'));
  }
}
