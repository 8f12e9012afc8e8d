package dev.sluice.bookinfo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RatingsServiceTest {
  private BookinfoServer server;

  private URI start(ServiceHandler ratings) {
    server = BookinfoServer.start(BookinfoFixture.ANY_LOOPBACK_PORT, ratings, new AccessLog(new PrintStream(OutputStream.nullOutputStream())));
    return server.baseUri();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void ratingsAreTheOriginalJson() throws Exception {
    URI base = start(RatingsService.of(RatingsService.Version.V1));

    HttpResponse<String> response = Http.get(base.resolve("/ratings/0"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("{\"id\":0,\"ratings\":{\"Reviewer1\":5,\"Reviewer2\":4}}");
    assertThat(Http.get(base.resolve("/health")).body()).isEqualTo("{\"status\":\"Ratings is healthy\"}");
  }

  @Test
  void nonNumericIdIs400() throws Exception {
    URI base = start(RatingsService.of(RatingsService.Version.V1));

    HttpResponse<String> response = Http.get(base.resolve("/ratings/abc"));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).isEqualTo("{\"error\":\"please provide numeric product ID\"}");
  }

  @Test
  void postStoresRatingsInMemory() throws Exception {
    URI base = start(RatingsService.of(RatingsService.Version.V1));

    HttpResponse<String> posted =
        Http.post(base.resolve("/ratings/7"), "application/json", "{\"Reviewer1\":1,\"Reviewer2\":2}");

    assertThat(posted.statusCode()).isEqualTo(200);
    assertThat(posted.body()).isEqualTo("{\"id\":7,\"ratings\":{\"Reviewer1\":1,\"Reviewer2\":2}}");
    assertThat(Http.get(base.resolve("/ratings/7")).body()).isEqualTo(posted.body());
    assertThat(Http.get(base.resolve("/ratings/0")).body()).contains("\"Reviewer1\":5");
    HttpResponse<String> invalid = Http.post(base.resolve("/ratings/7"), "application/json", "{not json");
    assertThat(invalid.statusCode()).isEqualTo(400);
    assertThat(invalid.body()).isEqualTo("{\"error\":\"please provide valid ratings JSON\"}");
  }

  @Test
  void faultyAnswers503WhenTheCoinSaysSo() throws Exception {
    FixedRandom random = new FixedRandom();
    URI base = start(new RatingsService(RatingsService.Version.FAULTY, random, System::currentTimeMillis, Duration.ZERO));

    random.next = 0.25;
    HttpResponse<String> unavailable = Http.get(base.resolve("/ratings/0"));
    random.next = 0.75;
    HttpResponse<String> available = Http.get(base.resolve("/ratings/0"));

    assertThat(unavailable.statusCode()).isEqualTo(503);
    assertThat(unavailable.body()).isEqualTo("{\"error\":\"Service unavailable\"}");
    assertThat(available.statusCode()).isEqualTo(200);
  }

  @Test
  void unavailableAlternatesEveryMinute() throws Exception {
    AtomicLong now = new AtomicLong(1_000_000);
    URI base = start(new RatingsService(RatingsService.Version.UNAVAILABLE, new FixedRandom(), now::get, Duration.ZERO));

    int first = Http.get(base.resolve("/ratings/0")).statusCode();
    now.addAndGet(60_000);
    int second = Http.get(base.resolve("/ratings/0")).statusCode();
    now.addAndGet(60_000);
    int third = Http.get(base.resolve("/ratings/0")).statusCode();

    assertThat(new int[] {first, second, third}).containsExactly(200, 503, 200);
  }

  @Test
  void delayedHoldsTheAnswerWhenTheCoinSaysSo() throws Exception {
    FixedRandom random = new FixedRandom();
    Duration delay = Duration.ofMillis(300);
    URI base = start(new RatingsService(RatingsService.Version.DELAYED, random, System::currentTimeMillis, delay));

    random.next = 0.25;
    long start = System.nanoTime();
    HttpResponse<String> delayed = Http.get(base.resolve("/ratings/0"));

    assertThat(delayed.statusCode()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(delay);
  }

  /** A coin the test sets: nextDouble() returns {@link #next}. */
  private static final class FixedRandom implements RandomGenerator {
    volatile double next = 0.75;

    @Override
    public long nextLong() {
      return 0;
    }

    @Override
    public double nextDouble() {
      return next;
    }
  }
}
