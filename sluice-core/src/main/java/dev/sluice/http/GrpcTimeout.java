package dev.sluice.http;

/** gRPC's {@code grpc-timeout} header (gRPC over HTTP/2 spec: 1-8 digits and a unit). */
public final class GrpcTimeout {
  private static final long MAX_VALUE = 99_999_999;

  private GrpcTimeout() {}

  /** The timeout in nanoseconds, or -1 when the value is malformed. */
  public static long parseNanos(CharSequence v) {
    int n = v.length();
    if (n < 2 || n > 9) {
      return -1;
    }
    long amount = 0;
    for (int i = 0; i < n - 1; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      amount = amount * 10 + (c - '0');
    }
    return switch (v.charAt(n - 1)) {
      case 'H' -> amount * 3_600_000_000_000L;
      case 'M' -> amount * 60_000_000_000L;
      case 'S' -> amount * 1_000_000_000L;
      case 'm' -> amount * 1_000_000L;
      case 'u' -> amount * 1_000L;
      case 'n' -> amount;
      default -> -1;
    };
  }

  /** {@code millis} in the finest of m, S, M, H whose value fits the header's 8 digits, as Envoy writes it. */
  public static String format(long millis) {
    long v = millis;
    if (v <= MAX_VALUE) {
      return v + "m";
    }
    v /= 1000;
    if (v <= MAX_VALUE) {
      return v + "S";
    }
    v /= 60;
    if (v <= MAX_VALUE) {
      return v + "M";
    }
    return Math.min(v / 60, MAX_VALUE) + "H";
  }
}
