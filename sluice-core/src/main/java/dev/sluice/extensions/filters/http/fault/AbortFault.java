package dev.sluice.extensions.filters.http.fault;

import dev.sluice.api.config.ConfigException;
import dev.sluice.router.RuntimeFraction;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * A compiled {@code FaultAbort}: an HTTP status, a gRPC status, or the statuses of the
 * {@code x-envoy-fault-abort-request} / {@code x-envoy-fault-abort-grpc-request} headers
 * ({@code header_abort}), each for a percentage of requests.
 */
record AbortFault(int httpStatus, int grpcStatus, boolean fromHeader, FaultPercentage percentage) {
  static final int NONE = -1;

  static AbortFault compile(FaultAbort a, String path) {
    RuntimeFraction fraction = a.hasPercentage() ? RuntimeFraction.of(a.getPercentage(), path + ".percentage") : new RuntimeFraction(0, 100);
    FaultPercentage fixed = new FaultPercentage(fraction, null);
    return switch (a.getErrorTypeCase()) {
      case HTTP_STATUS -> {
        if (a.getHttpStatus() < 200 || a.getHttpStatus() >= 600) {
          throw new ConfigException(path + ".http_status", "value must be inside range [200, 600)");
        }
        yield new AbortFault(a.getHttpStatus(), NONE, false, fixed);
      }
      case GRPC_STATUS -> new AbortFault(NONE, a.getGrpcStatus(), false, fixed);
      case HEADER_ABORT -> new AbortFault(NONE, NONE, true, new FaultPercentage(fraction, FaultHeaders.ABORT_PERCENTAGE));
      case ERRORTYPE_NOT_SET -> throw new ConfigException(path + ".error_type", "one of http_status, grpc_status or header_abort is required");
    };
  }

  /** The HTTP status to abort with, or {@link #NONE}; a header status outside [200, 600) is none. */
  int httpStatus(Http2Headers headers) {
    if (!fromHeader) {
      return httpStatus;
    }
    long v = FaultHeaders.unsigned(headers.get(FaultHeaders.ABORT));
    return v >= 200 && v < 600 ? (int) v : NONE;
  }

  /** The gRPC status to abort with, or {@link #NONE}. */
  int grpcStatus(Http2Headers headers) {
    if (!fromHeader) {
      return grpcStatus;
    }
    long v = FaultHeaders.unsigned(headers.get(FaultHeaders.ABORT_GRPC));
    return v > Integer.MAX_VALUE ? NONE : (int) v;
  }
}
