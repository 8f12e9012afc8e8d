package dev.sluice.bookinfo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReviewsServiceTest {
  private static final String REVIEW1_TEXT =
      "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!";
  private static final String REVIEW2_TEXT =
      "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.";

  private final List<BookinfoServer> servers = new ArrayList<>();
  private final AccessLog quiet = new AccessLog(new PrintStream(OutputStream.nullOutputStream()));

  private URI start(ServiceHandler handler) {
    BookinfoServer server = BookinfoServer.start(BookinfoFixture.ANY_LOOPBACK_PORT, handler, quiet);
    servers.add(server);
    return server.baseUri();
  }

  private URI reviews(boolean ratingsEnabled, String color, URI ratings, Duration timeout) {
    return start(new ReviewsService("reviews-pod", "null", ratingsEnabled, color, ratings, new OutboundClient(null), timeout));
  }

  @AfterEach
  void stop() {
    servers.forEach(BookinfoServer::close);
  }

  @Test
  void v1HasNoRatingAndNeverCallsRatings() throws Exception {
    Recorder ratings = new Recorder(RatingsService.of(RatingsService.Version.V1));
    URI base = reviews(false, "black", start(ratings), Duration.ofSeconds(1));

    HttpResponse<String> response = Http.get(base.resolve("/reviews/0"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body())
        .isEqualTo(
            "{\"id\":\"0\",\"podname\":\"reviews-pod\",\"clustername\":\"null\",\"reviews\":["
                + "{\"reviewer\":\"Reviewer1\",\"text\":\"" + REVIEW1_TEXT + "\"},"
                + "{\"reviewer\":\"Reviewer2\",\"text\":\"" + REVIEW2_TEXT + "\"}]}");
    assertThat(ratings.requests()).isEmpty();
  }

  @Test
  void v2AddsBlackStarsFromRatings() throws Exception {
    URI base = reviews(true, "black", start(RatingsService.of(RatingsService.Version.V1)), Duration.ofSeconds(5));

    assertThat(Http.get(base.resolve("/reviews/0")).body())
        .isEqualTo(
            "{\"id\":\"0\",\"podname\":\"reviews-pod\",\"clustername\":\"null\",\"reviews\":["
                + "{\"reviewer\":\"Reviewer1\",\"text\":\"" + REVIEW1_TEXT + "\",\"rating\":{\"stars\":5,\"color\":\"black\"}},"
                + "{\"reviewer\":\"Reviewer2\",\"text\":\"" + REVIEW2_TEXT + "\",\"rating\":{\"stars\":4,\"color\":\"black\"}}]}");
  }

  @Test
  void v3AddsRedStars() throws Exception {
    URI base = reviews(true, "red", start(RatingsService.of(RatingsService.Version.V1)), Duration.ofSeconds(5));

    assertThat(Http.get(base.resolve("/reviews/0")).body())
        .contains("\"rating\":{\"stars\":5,\"color\":\"red\"}")
        .contains("\"rating\":{\"stars\":4,\"color\":\"red\"}");
  }

  @Test
  void failingRatingsGiveTheUnavailableText() throws Exception {
    URI failing = start(request -> ServiceResponse.json(500, "{\"error\":\"fault filter abort\"}"));
    URI base = reviews(true, "black", failing, Duration.ofSeconds(5));

    String body = Http.get(base.resolve("/reviews/0")).body();

    assertThat(body).contains("\"rating\":{\"error\":\"Ratings service is currently unavailable\"}");
    assertThat(body).doesNotContain("stars");
  }

  @Test
  void ratingsThatDoNotAnswerInTimeGiveTheUnavailableText() throws Exception {
    HangingService hanging = new HangingService();
    try {
      URI base = reviews(true, "red", start(hanging), Duration.ofMillis(200));

      HttpResponse<String> response = Http.get(base.resolve("/reviews/0"));

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).contains("Ratings service is currently unavailable");
      assertThat(hanging.received()).isEqualTo(1);
    } finally {
      hanging.release();
    }
  }

  @Test
  void propagatesTraceAndUserHeadersToRatings() throws Exception {
    Recorder ratings = new Recorder(RatingsService.of(RatingsService.Version.V1));
    URI base = reviews(true, "black", start(ratings), Duration.ofSeconds(5));

    Http.get(
        base.resolve("/reviews/0"),
        "x-request-id", "req-1",
        "x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7",
        "x-b3-spanid", "e457b5a2e4d86bd1",
        "x-b3-sampled", "1",
        "traceparent", "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01",
        "end-user", "jason",
        "x-not-propagated", "no");

    ServiceRequest arrived = ratings.last();
    assertThat(arrived.header("x-request-id")).isEqualTo("req-1");
    assertThat(arrived.header("x-b3-traceid")).isEqualTo("80f198ee56343ba864fe8b2a57d3eff7");
    assertThat(arrived.header("x-b3-spanid")).isEqualTo("e457b5a2e4d86bd1");
    assertThat(arrived.header("x-b3-sampled")).isEqualTo("1");
    assertThat(arrived.header("traceparent")).isEqualTo("00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01");
    assertThat(arrived.header("end-user")).isEqualTo("jason");
    assertThat(arrived.header("x-not-propagated")).isNull();
  }

  @Test
  void nonIntegerIdMatchesNoResourceAndHealthAnswers() throws Exception {
    URI base = reviews(false, "black", URI.create("http://127.0.0.1:1"), Duration.ofSeconds(1));

    assertThat(Http.get(base.resolve("/reviews/abc")).statusCode()).isEqualTo(404);
    assertThat(Http.get(base.resolve("/health")).body()).isEqualTo("{\"status\":\"Reviews is healthy\"}");
  }
}
