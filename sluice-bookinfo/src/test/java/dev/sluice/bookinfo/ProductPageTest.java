package dev.sluice.bookinfo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProductPageTest {
  private static final String DETAILS_JSON =
      "{\"id\":0,\"author\":\"William Shakespeare\",\"year\":1595,\"type\":\"paperback\",\"pages\":200,"
          + "\"publisher\":\"PublisherA\",\"language\":\"English\",\"ISBN-10\":\"1234567890\",\"ISBN-13\":\"123-1234567890\"}";

  private final List<AutoCloseable> resources = new ArrayList<>();

  private BookinfoFixture fixture(String reviewsVersion) {
    BookinfoFixture fixture = new BookinfoFixture(reviewsVersion);
    resources.add(fixture);
    return fixture;
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  @Test
  void pageComposesDetailsReviewsAndRatings() throws Exception {
    BookinfoFixture bookinfo = fixture("v2");

    HttpResponse<String> response = Http.get(bookinfo.page("/productpage"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
    String html = response.body();
    assertThat(html)
        .contains("<title>Simple Bookstore App</title>", "BookInfo Sample", "The Comedy of Errors", "Book Details")
        .contains("<td>1234567890</td><td>PublisherA</td><td>200</td><td>paperback</td><td>English</td>")
        .contains("Book Reviews", "An extremely entertaining play by Shakespeare.", "Sign in");
    BookinfoPage page = BookinfoPage.parse(html);
    assertThat(page.user()).isNull();
    assertThat(page.detailsError()).isFalse();
    assertThat(page.reviewsError()).isFalse();
    assertThat(page.reviews())
        .containsExactly(
            new BookinfoPage.Review("Reviewer1", 5, 0, "black", null, "reviews-v2-pod"),
            new BookinfoPage.Review("Reviewer2", 4, 1, "black", null, "reviews-v2-pod"));
    assertThat(html).contains("class=\"star star-full text-black-500\"");
  }

  @ParameterizedTest
  @CsvSource({"v1,0,''", "v2,4,black", "v3,4,red"})
  void starsFollowTheReviewsVersion(String version, int secondReviewStars, String color) throws Exception {
    BookinfoFixture bookinfo = fixture(version);

    BookinfoPage page = BookinfoPage.parse(Http.get(bookinfo.page("/productpage")).body());

    assertThat(page.reviews()).hasSize(2);
    assertThat(page.reviews().get(1).stars()).isEqualTo(secondReviewStars);
    assertThat(page.starColors()).isEqualTo(color.isEmpty() ? Set.of() : Set.of(color));
    assertThat(page.reviews().getFirst().servedBy()).isEqualTo("reviews-" + version + "-pod");
    assertThat(bookinfo.ratings.requests()).hasSize(version.equals("v1") ? 0 : 1);
  }

  @Test
  void ratingsFailureShowsTheRatingErrorUnderEachReview() throws Exception {
    AccessLog quiet = new AccessLog(new PrintStream(OutputStream.nullOutputStream()));
    BookinfoServer abortingRatings =
        BookinfoServer.start(BookinfoFixture.ANY_LOOPBACK_PORT, request -> ServiceResponse.text(500, "fault filter abort"), quiet);
    resources.add(abortingRatings);
    BookinfoFixture bookinfo = fixture("v3");
    URI reviews =
        bookinfo.start(
            new ReviewsService("r", "null", true, "red", abortingRatings.baseUri(), new OutboundClient(null), Duration.ofSeconds(2)));
    BookinfoServer page =
        productPage(new Upstreams(bookinfo.upstreams.details(), reviews, abortingRatings.baseUri()), Duration.ofSeconds(2));

    BookinfoPage shown = BookinfoPage.parse(Http.get(page.baseUri().resolve("/productpage")).body());

    assertThat(shown.reviewsError()).isFalse();
    assertThat(shown.reviews())
        .extracting(BookinfoPage.Review::ratingError)
        .containsExactly("Ratings service is currently unavailable", "Ratings service is currently unavailable");
    assertThat(shown.starColors()).isEmpty();
  }

  @Test
  void detailsFailureShowsTheOriginalErrorTexts() throws Exception {
    BookinfoFixture bookinfo = fixture("v1");
    URI failingDetails = bookinfo.start(request -> ServiceResponse.text(503, "no healthy upstream"));
    BookinfoServer page = productPage(new Upstreams(failingDetails, bookinfo.upstreams.reviews(), bookinfo.upstreams.ratings()), Duration.ofSeconds(2));

    String html = Http.get(page.baseUri().resolve("/productpage")).body();

    assertThat(html)
        .contains("Error fetching product details")
        .contains("Sorry, product details are currently unavailable for this book.")
        .doesNotContain("Book Details");
    assertThat(BookinfoPage.parse(html).detailsError()).isTrue();
    HttpResponse<String> api = Http.get(page.baseUri().resolve("/api/v1/products/0"));
    assertThat(api.statusCode()).isEqualTo(503);
    assertThat(api.body()).isEqualTo("{\"error\":\"Sorry, product details are currently unavailable for this book.\"}");
  }

  @Test
  void reviewsAreAttemptedTwiceWhenTheyTimeOut() throws Exception {
    BookinfoFixture bookinfo = fixture("v1");
    HangingService hanging = new HangingService();
    resources.add(hanging::release);
    URI stuckReviews = bookinfo.start(hanging);
    Duration timeout = Duration.ofMillis(250);
    BookinfoServer page = productPage(new Upstreams(bookinfo.upstreams.details(), stuckReviews, bookinfo.upstreams.ratings()), timeout);

    long start = System.nanoTime();
    String html = Http.get(page.baseUri().resolve("/productpage")).body();
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(hanging.received()).isEqualTo(2);
    assertThat(took).isGreaterThanOrEqualTo(timeout.multipliedBy(2));
    assertThat(html)
        .contains("Error fetching product reviews")
        .contains("Sorry, product reviews are currently unavailable for this book.")
        .contains("Book Details");
    assertThat(BookinfoPage.parse(html).reviewsError()).isTrue();
  }

  @Test
  void aFailingReviewsAnswerIsRetriedOnceAndItsStatusReported() throws Exception {
    BookinfoFixture bookinfo = fixture("v1");
    Recorder failingReviews = new Recorder(request -> ServiceResponse.text(503, "upstream connect error"));
    BookinfoServer page = productPage(new Upstreams(bookinfo.upstreams.details(), bookinfo.start(failingReviews), bookinfo.upstreams.ratings()), Duration.ofSeconds(2));

    HttpResponse<String> api = Http.get(page.baseUri().resolve("/api/v1/products/0/reviews"));

    assertThat(api.statusCode()).isEqualTo(503);
    assertThat(api.body()).isEqualTo("{\"error\":\"Sorry, product reviews are currently unavailable for this book.\"}");
    assertThat(failingReviews.requests()).hasSize(2);
  }

  @Test
  void signingInAddsEndUserToCallsAndSigningOutRemovesIt() throws Exception {
    BookinfoFixture bookinfo = fixture("v2");
    URI pageUri = bookinfo.page("/productpage");

    HttpResponse<String> login =
        Http.post(bookinfo.page("/login"), "application/x-www-form-urlencoded", "username=jason&passwd=secret", "Referer", pageUri.toString());

    assertThat(login.statusCode()).isEqualTo(302);
    assertThat(login.headers().firstValue("location")).hasValue(pageUri.toString());
    String setCookie = login.headers().firstValue("set-cookie").orElseThrow();
    assertThat(setCookie).startsWith("session=").doesNotContain("jason");
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));

    BookinfoPage signedIn = BookinfoPage.parse(Http.get(pageUri, "Cookie", cookie).body());

    assertThat(signedIn.user()).isEqualTo("jason");
    assertThat(bookinfo.reviews.last().header("end-user")).isEqualTo("jason");
    assertThat(bookinfo.details.last().header("end-user")).isEqualTo("jason");
    assertThat(bookinfo.ratings.last().header("end-user")).isEqualTo("jason");

    HttpResponse<String> logout = Http.get(bookinfo.page("/logout"), "Cookie", cookie, "Referer", pageUri.toString());
    assertThat(logout.statusCode()).isEqualTo(302);
    assertThat(logout.headers().firstValue("set-cookie").orElseThrow()).startsWith("session=;").contains("Max-Age=0");

    bookinfo.reviews.clear();
    BookinfoPage signedOut = BookinfoPage.parse(Http.get(pageUri).body());
    assertThat(signedOut.user()).isNull();
    assertThat(bookinfo.reviews.last().header("end-user")).isNull();
  }

  @Test
  void curlSignsInWithItsCookieJar(@TempDir Path dir) throws Exception {
    assumeThat(Files.isExecutable(Path.of("/usr/bin/curl"))).as("curl installed").isTrue();
    BookinfoFixture bookinfo = fixture("v2");
    String jar = dir.resolve("cookies").toString();
    String page = bookinfo.page("/productpage").toString();

    String login = curl("-c", jar, "-e", page, "--data-urlencode", "username=jason", "--data-urlencode", "passwd=pw",
        "-w", "%{http_code} %{redirect_url}", "-o", "/dev/null", bookinfo.page("/login").toString());
    BookinfoPage signedIn = BookinfoPage.parse(curl("-b", jar, page));

    assertThat(login).isEqualTo("302 " + page);
    assertThat(signedIn.user()).isEqualTo("jason");
    assertThat(bookinfo.reviews.last().header("end-user")).isEqualTo("jason");
  }

  private static String curl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("/usr/bin/curl", "-s", "--max-time", "10"));
    command.addAll(List.of(args));
    Process curl = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(curl.waitFor()).isZero();
    return out;
  }

  @Test
  void endUserComesOnlyFromAValidSession() throws Exception {
    BookinfoFixture bookinfo = fixture("v1");

    Http.get(bookinfo.page("/productpage"), "end-user", "jason", "Cookie", "session=amFzb24.Zm9yZ2Vk");

    assertThat(bookinfo.reviews.last().header("end-user")).isNull();
    assertThat(bookinfo.reviews.last().header("cookie")).isEqualTo("session=amFzb24.Zm9yZ2Vk");
  }

  @Test
  void loginWithoutRefererGoesToTheProductPage() throws Exception {
    BookinfoFixture bookinfo = fixture("v1");

    HttpResponse<String> login = Http.post(bookinfo.page("/login"), "application/x-www-form-urlencoded", "username=jason&passwd=x");

    assertThat(login.headers().firstValue("location")).hasValue("/productpage");
    assertThat(Http.get(bookinfo.page("/login")).statusCode()).isEqualTo(405);
  }

  @Test
  void propagatesTracingHeadersToEveryHop() throws Exception {
    BookinfoFixture bookinfo = fixture("v3");

    Http.get(
        bookinfo.page("/productpage"),
        "x-request-id", "9d3e8c1a-request",
        "x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124",
        "x-b3-spanid", "a2fb4a1d1a96d312",
        "x-b3-parentspanid", "0020000000000001",
        "x-b3-sampled", "1",
        "traceparent", "00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01",
        "tracestate", "vendor=1",
        "User-Agent", "bookinfo-test/1");

    for (Recorder hop : List.of(bookinfo.details, bookinfo.reviews, bookinfo.ratings)) {
      ServiceRequest arrived = hop.last();
      assertThat(arrived.header("x-request-id")).isEqualTo("9d3e8c1a-request");
      assertThat(arrived.header("x-b3-traceid")).isEqualTo("463ac35c9f6413ad48485a3953bb6124");
      assertThat(arrived.header("x-b3-spanid")).isEqualTo("a2fb4a1d1a96d312");
      assertThat(arrived.header("x-b3-parentspanid")).isEqualTo("0020000000000001");
      assertThat(arrived.header("x-b3-sampled")).isEqualTo("1");
      assertThat(arrived.header("traceparent")).isEqualTo("00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01");
      assertThat(arrived.header("tracestate")).isEqualTo("vendor=1");
      assertThat(arrived.header("user-agent")).isEqualTo("bookinfo-test/1");
    }
  }

  @Test
  void jsonApiAnswersAsTheSwaggerSays() throws Exception {
    BookinfoFixture bookinfo = fixture("v2");

    HttpResponse<String> products = Http.get(bookinfo.page("/api/v1/products"));
    HttpResponse<String> details = Http.get(bookinfo.page("/api/v1/products/0"));
    HttpResponse<String> reviews = Http.get(bookinfo.page("/api/v1/products/0/reviews"));
    HttpResponse<String> ratings = Http.get(bookinfo.page("/api/v1/products/0/ratings"));
    HttpResponse<String> invalid = Http.get(bookinfo.page("/api/v1/products/abc"));

    assertThat(products.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(products.body())
        .isEqualTo(
            "[{\"id\":0,\"title\":\"The Comedy of Errors\",\"descriptionHtml\":\"<a href=\\\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\\\">"
                + "Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest"
                + " and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken"
                + " identity, in addition to puns and word play.\"}]");
    assertThat(details.body()).isEqualTo(DETAILS_JSON);
    assertThat(reviews.statusCode()).isEqualTo(200);
    assertThat(reviews.body()).startsWith("{\"id\":\"0\",\"podname\":\"reviews-v2-pod\"").contains("\"color\":\"black\"");
    assertThat(ratings.body()).isEqualTo("{\"id\":0,\"ratings\":{\"Reviewer1\":5,\"Reviewer2\":4}}");
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(invalid.body()).isEqualTo("{\"error\":\"Sorry, product details are currently unavailable for this book.\"}");
  }

  @Test
  void metricsHealthAndLandingPage() throws Exception {
    BookinfoFixture bookinfo = fixture("v1");
    Http.get(bookinfo.page("/productpage"));
    Http.get(bookinfo.page("/api/v1/products/abc"));

    HttpResponse<String> metrics = Http.get(bookinfo.page("/metrics"));
    HttpResponse<String> health = Http.get(bookinfo.page("/health"));
    HttpResponse<String> index = Http.get(bookinfo.page("/"));

    assertThat(metrics.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain; version=0.0.4");
    assertThat(metrics.body())
        .contains("# TYPE request_result_total counter\n")
        .contains("request_result_total{destination_app=\"details\",response_code=\"200\"} 1.0\n")
        .contains("request_result_total{destination_app=\"details\",response_code=\"400\"} 1.0\n")
        .contains("request_result_total{destination_app=\"reviews\",response_code=\"200\"} 1.0\n");
    assertThat(health.body()).isEqualTo("Product page is healthy");
    assertThat(index.body()).contains("simple bookstore application").contains("/productpage?u=normal");
    assertThat(Http.get(bookinfo.page("/index.html")).statusCode()).isEqualTo(200);
    assertThat(Http.get(bookinfo.page("/nope")).statusCode()).isEqualTo(404);
  }

  private BookinfoServer productPage(Upstreams upstreams, Duration timeout) {
    BookinfoServer server =
        BookinfoServer.start(
            BookinfoFixture.ANY_LOOPBACK_PORT,
            new ProductPageService(upstreams, new OutboundClient(null), timeout, SessionCookies.withRandomKey()),
            new AccessLog(new PrintStream(OutputStream.nullOutputStream())));
    resources.add(server);
    return server;
  }
}
