package dev.sluice.accesslog;

import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import org.jspecify.annotations.Nullable;

/**
 * The gRPC status of a stream as Envoy's {@code Grpc::Common::getGrpcStatus} finds it:
 * {@code grpc-status} from the trailers, else the headers (trailers-only responses), else mapped
 * from the HTTP status (Envoy's {@code httpToGrpcStatus}, after the gRPC HTTP mapping doc).
 */
final class GrpcStatuses {
  static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
  static final AsciiString CONTENT_TYPE = AsciiString.cached("content-type");
  /** No status can be found; Envoy's {@code WellKnownGrpcStatus::Unknown} is 2. */
  static final int UNKNOWN = 2;
  /** {@code grpc-status} present but not a number (Envoy's {@code InvalidCode}). */
  static final int INVALID = -1;
  /** No status and no HTTP response code. */
  static final int NONE = -2;

  static final String[] CAMEL = {
    "Ok", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"
  };
  static final String[] SNAKE = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"
  };

  private GrpcStatuses() {}

  /** The status, {@link #INVALID} for a non-numeric header, or {@link #NONE}. */
  static int of(StreamInfo info) {
    int fromTrailers = fromHeaders(info.responseTrailers);
    if (fromTrailers != NONE) {
      return fromTrailers;
    }
    int fromHeaders = fromHeaders(info.responseHeaders);
    if (fromHeaders != NONE) {
      return fromHeaders;
    }
    if (info.responseCode == 0) {
      return NONE;
    }
    return switch (info.responseCode) {
      case 400 -> 13; // INTERNAL
      case 401 -> 16; // UNAUTHENTICATED
      case 403 -> 7; // PERMISSION_DENIED
      case 404 -> 12; // UNIMPLEMENTED
      case 429, 502, 503, 504 -> 14; // UNAVAILABLE
      default -> UNKNOWN;
    };
  }

  private static int fromHeaders(@Nullable Http2Headers headers) {
    if (headers == null) {
      return NONE;
    }
    CharSequence v = headers.get(GRPC_STATUS);
    if (v == null) {
      return NONE;
    }
    if (v.isEmpty() || v.length() > 9) {
      return INVALID;
    }
    int n = 0;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return INVALID;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  /** Whether the request is gRPC: {@code content-type} is {@code application/grpc[+...|;...]}. */
  static boolean isGrpcRequest(StreamInfo info) {
    Http2Headers h = info.requestHeaders;
    if (h == null) {
      return false;
    }
    CharSequence ct = h.get(CONTENT_TYPE);
    if (ct == null || !AsciiString.regionMatches(ct, true, 0, "application/grpc", 0, 16)) {
      return false;
    }
    return ct.length() == 16 || ct.charAt(16) == '+' || ct.charAt(16) == ';';
  }
}
