package dev.sluice.extensions.filters.http.fault;

import dev.sluice.api.config.ConfigException;
import dev.sluice.router.RuntimeFraction;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultRateLimit;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * A compiled {@code response_rate_limit} ({@code FaultRateLimit}): a fixed rate in KiB/s, or the
 * rate the {@code x-envoy-fault-throughput-response} header asks for ({@code header_limit}), for a
 * percentage of requests.
 */
record ResponseRateLimit(long fixedKbps, boolean fromHeader, FaultPercentage percentage) {
  static ResponseRateLimit compile(FaultRateLimit r, String path) {
    RuntimeFraction fraction = r.hasPercentage() ? RuntimeFraction.of(r.getPercentage(), path + ".percentage")
        : new RuntimeFraction(0, 100);
    return switch (r.getLimitTypeCase()) {
      case FIXED_LIMIT -> {
        if (r.getFixedLimit().getLimitKbps() < 1) {
          throw new ConfigException(path + ".fixed_limit.limit_kbps", "value must be greater than or equal to 1");
        }
        yield new ResponseRateLimit(r.getFixedLimit().getLimitKbps(), false, new FaultPercentage(fraction, null));
      }
      case HEADER_LIMIT -> new ResponseRateLimit(0, true,
          new FaultPercentage(fraction, FaultHeaders.THROUGHPUT_RESPONSE_PERCENTAGE));
      case LIMITTYPE_NOT_SET -> throw new ConfigException(path + ".limit_type", "one of fixed_limit or header_limit is required");
    };
  }

  /**
   * The limit for this request in KiB/s, or -1 for none: a header limit without a valid header, or
   * 0 (Envoy ignores both).
   */
  long kbps(Http2Headers headers) {
    if (!fromHeader) {
      return fixedKbps;
    }
    long v = FaultHeaders.unsigned(headers.get(FaultHeaders.THROUGHPUT_RESPONSE));
    return v > 0 ? v : -1;
  }
}
