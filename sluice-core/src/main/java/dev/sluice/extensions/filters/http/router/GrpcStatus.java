package dev.sluice.extensions.filters.http.router;

import dev.sluice.http.Headers;
import io.netty.handler.codec.http2.Http2Headers;

/** Reading {@code grpc-status} and mapping it to HTTP as Envoy's Grpc::Utility does. */
final class GrpcStatus {
  private GrpcStatus() {}

  /** The {@code grpc-status} in these headers, or -1 when absent or not a number. */
  static int of(Http2Headers headers) {
    CharSequence v = headers.get(Headers.GRPC_STATUS);
    if (v == null || v.isEmpty() || v.length() > 9) {
      return -1;
    }
    int r = 0;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      r = r * 10 + (c - '0');
    }
    return r;
  }

  /** Envoy's grpcToHttpStatus, used to report gRPC outcomes to outlier detection. */
  static int toHttp(int grpcStatus) {
    return switch (grpcStatus) {
      case 0 -> 200;
      case 1 -> 499;
      case 3, 9, 11 -> 400;
      case 4 -> 504;
      case 5 -> 404;
      case 6, 10 -> 409;
      case 7 -> 403;
      case 8 -> 429;
      case 12 -> 501;
      case 14 -> 503;
      case 16 -> 401;
      default -> 500;
    };
  }
}
