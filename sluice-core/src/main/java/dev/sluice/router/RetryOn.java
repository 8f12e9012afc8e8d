package dev.sluice.router;

/**
 * Envoy's retry conditions as bits: the tokens of {@code retry_on} and of the
 * {@code x-envoy-retry-on} / {@code x-envoy-retry-grpc-on} request headers.
 */
public final class RetryOn {
  public static final int FIVE_XX = 1;
  public static final int GATEWAY_ERROR = 1 << 1;
  public static final int CONNECT_FAILURE = 1 << 2;
  public static final int RETRIABLE_4XX = 1 << 3;
  public static final int REFUSED_STREAM = 1 << 4;
  public static final int RETRIABLE_STATUS_CODES = 1 << 5;
  public static final int RETRIABLE_HEADERS = 1 << 6;
  public static final int RESET = 1 << 7;
  public static final int RESET_BEFORE_REQUEST = 1 << 8;
  /** Accepted for compatibility; Sluice has no HTTP/3 upstream, so it never matches. */
  public static final int HTTP3_POST_CONNECT_FAILURE = 1 << 9;
  public static final int GRPC_CANCELLED = 1 << 10;
  public static final int GRPC_DEADLINE_EXCEEDED = 1 << 11;
  public static final int GRPC_RESOURCE_EXHAUSTED = 1 << 12;
  public static final int GRPC_UNAVAILABLE = 1 << 13;
  public static final int GRPC_INTERNAL = 1 << 14;
  /** Every gRPC condition: any of them makes the router look at {@code grpc-status}. */
  public static final int ANY_GRPC =
      GRPC_CANCELLED | GRPC_DEADLINE_EXCEEDED | GRPC_RESOURCE_EXHAUSTED | GRPC_UNAVAILABLE | GRPC_INTERNAL;

  private RetryOn() {}

  /**
   * The HTTP conditions of a comma-separated list ({@code x-envoy-retry-on}). Unknown tokens are
   * ignored, as Envoy ignores them in both the header and the route config.
   */
  public static int parseHttp(CharSequence list) {
    return parse(list, false);
  }

  /** The gRPC conditions of a comma-separated list ({@code x-envoy-retry-grpc-on}). */
  public static int parseGrpc(CharSequence list) {
    return parse(list, true);
  }

  private static int parse(CharSequence list, boolean grpc) {
    int bits = 0;
    int n = list.length();
    int i = 0;
    while (i < n) {
      int end = i;
      while (end < n && list.charAt(end) != ',') {
        end++;
      }
      String token = list.subSequence(i, end).toString().strip();
      bits |= grpc ? grpcBit(token) : httpBit(token);
      i = end + 1;
    }
    return bits;
  }

  private static int httpBit(String token) {
    return switch (token) {
      case "5xx" -> FIVE_XX;
      case "gateway-error" -> GATEWAY_ERROR;
      case "connect-failure" -> CONNECT_FAILURE;
      case "retriable-4xx" -> RETRIABLE_4XX;
      case "refused-stream" -> REFUSED_STREAM;
      case "retriable-status-codes" -> RETRIABLE_STATUS_CODES;
      case "retriable-headers" -> RETRIABLE_HEADERS;
      case "reset" -> RESET;
      case "reset-before-request" -> RESET_BEFORE_REQUEST;
      case "http3-post-connect-failure" -> HTTP3_POST_CONNECT_FAILURE;
      default -> 0;
    };
  }

  private static int grpcBit(String token) {
    return switch (token) {
      case "cancelled" -> GRPC_CANCELLED;
      case "deadline-exceeded" -> GRPC_DEADLINE_EXCEEDED;
      case "resource-exhausted" -> GRPC_RESOURCE_EXHAUSTED;
      case "unavailable" -> GRPC_UNAVAILABLE;
      case "internal" -> GRPC_INTERNAL;
      default -> 0;
    };
  }

  /** The condition bit a gRPC status code answers to, or 0. */
  public static int forGrpcStatus(int status) {
    return switch (status) {
      case 1 -> GRPC_CANCELLED;
      case 4 -> GRPC_DEADLINE_EXCEEDED;
      case 8 -> GRPC_RESOURCE_EXHAUSTED;
      case 13 -> GRPC_INTERNAL;
      case 14 -> GRPC_UNAVAILABLE;
      default -> 0;
    };
  }
}
