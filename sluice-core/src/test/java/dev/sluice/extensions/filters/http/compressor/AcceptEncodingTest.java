package dev.sluice.extensions.filters.http.compressor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.extensions.filters.http.compressor.AcceptEncoding.Decision;
import dev.sluice.extensions.filters.http.compressor.AcceptEncoding.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class AcceptEncodingTest {
  /** Istio's stats listener: brotli, zstd, gzip in that order. */
  private static final List<String> ISTIO = List.of("br", "zstd", "gzip");

  private static Decision choose(String header) {
    return AcceptEncoding.choose(header, ISTIO, null);
  }

  @Test
  void highestQWinsAndTiesGoToTheEarliestInTheHeader() {
    assertThat(choose("deflate, gzip, br, zstd")).isEqualTo(new Decision("gzip", Kind.VALID));
    assertThat(choose("gzip;q=0.5, br")).isEqualTo(new Decision("br", Kind.VALID));
    assertThat(choose("gzip;q=1.0, zstd;Q=0.9")).isEqualTo(new Decision("gzip", Kind.VALID));
    assertThat(choose("GZIP")).isEqualTo(new Decision("gzip", Kind.VALID));
  }

  @Test
  void identityWildcardAndInvalidHeaders() {
    assertThat(choose("identity")).isEqualTo(new Decision("identity", Kind.IDENTITY));
    assertThat(choose("identity, gzip;q=0.5")).isEqualTo(new Decision("identity", Kind.IDENTITY));
    assertThat(choose("*")).isEqualTo(new Decision("br", Kind.WILDCARD));
    // q=0 forbids a coding even under '*'.
    assertThat(choose("br;q=0, *")).isEqualTo(new Decision("zstd", Kind.WILDCARD));
    assertThat(choose("gzip;q=0,*;q=1")).isEqualTo(new Decision("br", Kind.WILDCARD));
    assertThat(AcceptEncoding.choose("gzip;q=0,*;q=1", List.of("gzip"), null)).isEqualTo(new Decision("identity", Kind.NOT_VALID));
    assertThat(AcceptEncoding.choose("*;q=0,gzip;q=1", List.of("gzip"), null)).isEqualTo(new Decision("gzip", Kind.VALID));
    assertThat(choose("deflate")).isEqualTo(new Decision("identity", Kind.NOT_VALID));
    assertThat(choose("gzip;q=abc")).isEqualTo(new Decision("identity", Kind.NOT_VALID));
    assertThat(choose("")).isEqualTo(new Decision("identity", Kind.NOT_VALID));
  }

  @Test
  void chooseFirstWinsTies() {
    assertThat(AcceptEncoding.choose("gzip, br", List.of("br", "gzip"), "br")).isEqualTo(new Decision("br", Kind.VALID));
    assertThat(AcceptEncoding.choose("gzip, br;q=0.9", List.of("br", "gzip"), "br")).isEqualTo(new Decision("gzip", Kind.VALID));
  }
}
