package dev.sluice.extensions.filters.http.fault;

import dev.sluice.router.RuntimeFraction;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * How often a fault applies: the configured {@code FractionalPercent}, or, for a header-controlled
 * fault, the numerator a request header asks for, capped by the configured one, over the configured
 * denominator (Envoy's HeaderPercentageProvider). An unset percentage is 0%: the fault never applies.
 */
final class FaultPercentage {
  private final RuntimeFraction configured;
  private final @Nullable AsciiString header;

  /** @param header the request header that may lower the percentage, or null for a fixed fault */
  FaultPercentage(RuntimeFraction configured, @Nullable AsciiString header) {
    this.configured = configured;
    this.header = header;
  }

  boolean enabled(Http2Headers headers, long random) {
    RuntimeFraction f = configured;
    if (header != null) {
      long asked = FaultHeaders.unsigned(headers.get(header));
      if (asked >= 0 && asked < f.numerator()) {
        f = new RuntimeFraction(asked, f.denominator());
      }
    }
    return f.enabled(random);
  }

  RuntimeFraction configured() {
    return configured;
  }
}
