package dev.sluice.bookinfo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DetailsServiceTest {
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private BookinfoServer server;

  private URI start(boolean externalBookService) {
    server =
        BookinfoServer.start(
            BookinfoFixture.ANY_LOOPBACK_PORT,
            new DetailsService(externalBookService),
            new AccessLog(new PrintStream(log, true, StandardCharsets.UTF_8)));
    return server.baseUri();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void detailsAreTheOriginalJson() throws Exception {
    URI base = start(false);

    HttpResponse<String> response = Http.get(base.resolve("/details/0"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.body())
        .isEqualTo(
            "{\"id\":0,\"author\":\"William Shakespeare\",\"year\":1595,\"type\":\"paperback\",\"pages\":200,"
                + "\"publisher\":\"PublisherA\",\"language\":\"English\",\"ISBN-10\":\"1234567890\","
                + "\"ISBN-13\":\"123-1234567890\"}");
    assertThat(Http.get(base.resolve("/details/42")).body()).startsWith("{\"id\":42,");
  }

  @Test
  void nonNumericIdIs400() throws Exception {
    URI base = start(false);

    HttpResponse<String> response = Http.get(base.resolve("/details/abc"));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).isEqualTo("{\"error\":\"please provide numeric product id\"}");
  }

  @Test
  void healthAndUnknownPaths() throws Exception {
    URI base = start(false);

    assertThat(Http.get(base.resolve("/health")).body()).isEqualTo("{\"status\":\"Details is healthy\"}");
    assertThat(Http.get(base.resolve("/nothing")).statusCode()).isEqualTo(404);
    // The line is written once the answer is out, so it may trail the client's read slightly.
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(log.toString(StandardCharsets.UTF_8))
                    .containsPattern("GET /health 200 \\d+ms")
                    .containsPattern("GET /nothing 404 \\d+ms"));
  }

  @Test
  void v2AnswersTheBuiltInExternalBookWithoutCallingOut() throws Exception {
    URI base = start(true);

    HttpResponse<String> response = Http.get(base.resolve("/details/0"));

    assertThat(response.body())
        .isEqualTo(
            "{\"id\":0,\"author\":\"William Shakespeare\",\"year\":\"2002\",\"type\":\"paperback\",\"pages\":80,"
                + "\"publisher\":\"Dover Publications\",\"language\":\"English\",\"ISBN-10\":\"0486424618\","
                + "\"ISBN-13\":\"9780486424613\"}");
  }
}
