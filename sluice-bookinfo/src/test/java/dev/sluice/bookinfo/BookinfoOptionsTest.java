package dev.sluice.bookinfo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BookinfoOptionsTest {

  @Test
  void defaultsAreTheOriginals() throws Exception {
    BookinfoOptions options = BookinfoOptions.parse(List.of("productpage"), Map.of());

    assertThat(options.service()).isEqualTo(BookinfoOptions.Service.PRODUCTPAGE);
    assertThat(options.version()).isEqualTo("v1");
    assertThat(options.listen()).isEqualTo(new InetSocketAddress(9080));
    assertThat(options.proxy()).isNull();
    assertThat(options.upstreams())
        .isEqualTo(new Upstreams(URI.create("http://details:9080"), URI.create("http://reviews:9080"), URI.create("http://ratings:9080")));
    assertThat(options.podName()).isEqualTo("productpage-v1");
    assertThat(options.clusterName()).isEqualTo("null");
  }

  @Test
  void commandLineAndEnvironment() throws Exception {
    BookinfoOptions options =
        BookinfoOptions.parse(
            List.of("reviews", "--version", "v3", "--listen", "127.1.0.5:9080", "--proxy=127.0.0.5:15001"),
            Map.of(
                "SERVICES_DOMAIN", "default.svc.cluster.local",
                "RATINGS_HOSTNAME", "ratings-alt",
                "RATINGS_SERVICE_PORT", "9081",
                "HOSTNAME", "reviews-v3-7f9c",
                "CLUSTER_NAME", "east"));

    assertThat(options.listen()).isEqualTo(new InetSocketAddress("127.1.0.5", 9080));
    assertThat(options.proxy()).isEqualTo(new InetSocketAddress("127.0.0.5", 15001));
    assertThat(options.upstreams().ratings()).isEqualTo(URI.create("http://ratings-alt.default.svc.cluster.local:9081"));
    assertThat(options.upstreams().details()).isEqualTo(URI.create("http://details.default.svc.cluster.local:9080"));
    assertThat(options.ratingsEnabled()).isTrue();
    assertThat(options.starColor()).isEqualTo("red");
    assertThat(options.podName()).isEqualTo("reviews-v3-7f9c");
    assertThat(options.clusterName()).isEqualTo("east");
  }

  @ParameterizedTest
  @CsvSource({"v1,false,black", "v2,true,black", "v3,true,red"})
  void reviewsVersionsSetRatingsAndColour(String version, boolean ratingsEnabled, String color) throws Exception {
    BookinfoOptions options = BookinfoOptions.parse(List.of("reviews", "--version", version, "--pod-name", "p"), Map.of());

    assertThat(options.ratingsEnabled()).isEqualTo(ratingsEnabled);
    assertThat(options.starColor()).isEqualTo(color);
    assertThat(options.podName()).isEqualTo("p");
  }

  @Test
  void environmentOverridesVersionDefaultsAsTheOriginalsBuildArgs() throws Exception {
    BookinfoOptions reviews =
        BookinfoOptions.parse(List.of("reviews"), Map.of("ENABLE_RATINGS", "true", "STAR_COLOR", "red"));
    BookinfoOptions details = BookinfoOptions.parse(List.of("details"), Map.of("ENABLE_EXTERNAL_BOOK_SERVICE", "true"));
    BookinfoOptions ratings = BookinfoOptions.parse(List.of("ratings"), Map.of("SERVICE_VERSION", "v-faulty"));

    assertThat(reviews.ratingsEnabled()).isTrue();
    assertThat(reviews.starColor()).isEqualTo("red");
    assertThat(details.externalBookService()).isTrue();
    assertThat(ratings.version()).isEqualTo("v-faulty");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "frontend                          | unknown service 'frontend' (expected productpage, details, reviews or ratings)",
        "reviews --version v4              | reviews has no version 'v4' (expected v1, v2, v3)",
        "ratings --version v2              | ratings v2 reads MongoDB or MySQL, which this Bookinfo does not include; use v1",
        "details --listen 9080             | --listen needs ADDR:PORT, got '9080'",
        "details --listen 127.0.0.1:99999  | --listen needs a port number 0-65535, got '99999'",
        "details --proxy                   | --proxy needs a value",
        "details extra                     | unexpected argument 'extra'",
      })
  void badArgumentsGiveOneLine(String commandLine, String message) {
    assertThatThrownBy(() -> BookinfoOptions.parse(List.of(commandLine.split(" ")), Map.of()))
        .isInstanceOf(UsageException.class)
        .hasMessage(message);
  }

  @Test
  void unknownOptionShowsTheUsage() {
    assertThatThrownBy(() -> BookinfoOptions.parse(List.of("details", "--colour", "red"), Map.of()))
        .isInstanceOf(UsageException.class)
        .hasMessage("unknown option '--colour'; " + BookinfoOptions.USAGE);
  }

  @Test
  void badEnvironmentPortIsAUsageError() {
    assertThatThrownBy(() -> BookinfoOptions.parse(List.of("productpage"), Map.of("REVIEWS_SERVICE_PORT", "http")))
        .isInstanceOf(UsageException.class)
        .hasMessage("REVIEWS_SERVICE_PORT must be a port number, got 'http'");
  }
}
