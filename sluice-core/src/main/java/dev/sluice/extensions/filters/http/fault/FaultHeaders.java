package dev.sluice.extensions.filters.http.fault;

import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/** The request headers that control header faults (Envoy's {@code x-envoy-fault-*}). */
final class FaultHeaders {
  static final AsciiString DELAY = AsciiString.cached("x-envoy-fault-delay-request");
  static final AsciiString DELAY_PERCENTAGE = AsciiString.cached("x-envoy-fault-delay-request-percentage");
  static final AsciiString ABORT = AsciiString.cached("x-envoy-fault-abort-request");
  static final AsciiString ABORT_GRPC = AsciiString.cached("x-envoy-fault-abort-grpc-request");
  static final AsciiString ABORT_PERCENTAGE = AsciiString.cached("x-envoy-fault-abort-request-percentage");
  static final AsciiString THROUGHPUT_RESPONSE = AsciiString.cached("x-envoy-fault-throughput-response");
  static final AsciiString THROUGHPUT_RESPONSE_PERCENTAGE =
      AsciiString.cached("x-envoy-fault-throughput-response-percentage");
  static final AsciiString DOWNSTREAM_NODE = AsciiString.cached("x-envoy-downstream-service-node");

  private FaultHeaders() {}

  /** The header value as an unsigned 32-bit decimal, or -1 when absent or not one (as absl::SimpleAtoi fails). */
  static long unsigned(@Nullable CharSequence value) {
    if (value == null || value.isEmpty() || value.length() > 10) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v > 0xFFFF_FFFFL ? -1 : v;
  }
}
