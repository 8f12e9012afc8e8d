package dev.sluice.bookinfo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BookinfoServerTest {
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private BookinfoServer server;

  private URI start(ServiceHandler handler) {
    server =
        BookinfoServer.start(
            BookinfoFixture.ANY_LOOPBACK_PORT, handler, new AccessLog(new PrintStream(log, true, StandardCharsets.UTF_8)));
    return server.baseUri();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void aFailingHandlerAnswers500AndTheServiceKeepsServing() throws Exception {
    URI base =
        start(request -> {
          if (request.path().equals("/boom")) {
            throw new IllegalStateException("bug");
          }
          return ServiceResponse.text(200, "fine");
        });

    HttpResponse<String> failed = Http.get(base.resolve("/boom?x=1"));
    HttpResponse<String> next = Http.get(base.resolve("/ok"));

    assertThat(failed.statusCode()).isEqualTo(500);
    assertThat(next.statusCode()).isEqualTo(200);
    assertThat(next.body()).isEqualTo("fine");
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(log.toString(StandardCharsets.UTF_8))
                    .containsPattern("(?m)^GET /boom\\?x=1 500 \\d+ms$")
                    .containsPattern("(?m)^GET /ok 200 \\d+ms$"));
  }

  @Test
  void anOversizedBodyIsRefused() throws Exception {
    URI base = start(request -> ServiceResponse.text(200, "read " + request.body().length));

    HttpResponse<String> small = Http.post(base.resolve("/"), "text/plain", "x".repeat(100));
    HttpResponse<String> large = Http.post(base.resolve("/"), "text/plain", "x".repeat(BookinfoServer.MAX_BODY_BYTES + 1));

    assertThat(small.body()).isEqualTo("read 100");
    assertThat(large.statusCode()).isEqualTo(413);
  }

  @Test
  void headAnswersWithoutABody() throws Exception {
    URI base = start(request -> ServiceResponse.text(200, "body"));

    HttpResponse<String> head =
        HttpClient.newHttpClient()
            .send(HttpRequest.newBuilder(base.resolve("/")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }
}
