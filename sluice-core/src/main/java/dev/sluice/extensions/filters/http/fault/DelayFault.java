package dev.sluice.extensions.filters.http.fault;

import dev.sluice.api.config.ConfigException;
import dev.sluice.router.RuntimeFraction;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * A compiled {@code FaultDelay}: a fixed delay, or the milliseconds of the
 * {@code x-envoy-fault-delay-request} header ({@code header_delay}), each for a percentage of requests.
 */
record DelayFault(long fixedMillis, boolean fromHeader, FaultPercentage percentage) {
  static DelayFault compile(FaultDelay d, String path) {
    RuntimeFraction fraction = d.hasPercentage() ? RuntimeFraction.of(d.getPercentage(), path + ".percentage") : new RuntimeFraction(0, 100);
    return switch (d.getFaultDelaySecifierCase()) {
      case FIXED_DELAY -> {
        var fixed = d.getFixedDelay();
        if (fixed.getSeconds() < 0 || fixed.getNanos() < 0 || (fixed.getSeconds() == 0 && fixed.getNanos() == 0)) {
          throw new ConfigException(path + ".fixed_delay", "value must be greater than 0s");
        }
        yield new DelayFault(fixed.getSeconds() * 1000 + fixed.getNanos() / 1_000_000, false, new FaultPercentage(fraction, null));
      }
      case HEADER_DELAY -> new DelayFault(0, true, new FaultPercentage(fraction, FaultHeaders.DELAY_PERCENTAGE));
      case FAULTDELAYSECIFIER_NOT_SET ->
          throw new ConfigException(path + ".fault_delay_secifier", "one of fixed_delay or header_delay is required");
    };
  }

  /** The delay for this request in milliseconds, or -1 for none (a header delay without a valid header). */
  long millis(Http2Headers headers) {
    return fromHeader ? FaultHeaders.unsigned(headers.get(FaultHeaders.DELAY)) : fixedMillis;
  }
}
