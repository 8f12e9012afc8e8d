package dev.sluice.http;

import io.netty.util.AsciiString;

/** Header names the connection manager and router read or write, as cached lower-case strings. */
public final class Headers {
  public static final AsciiString HOST = AsciiString.cached("host");
  public static final AsciiString CONNECTION = AsciiString.cached("connection");
  public static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
  public static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
  public static final AsciiString TRANSFER_ENCODING = AsciiString.cached("transfer-encoding");
  public static final AsciiString UPGRADE = AsciiString.cached("upgrade");
  public static final AsciiString TE = AsciiString.cached("te");
  public static final AsciiString TRAILERS = AsciiString.cached("trailers");
  public static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
  public static final AsciiString CONTENT_TYPE = AsciiString.cached("content-type");
  public static final AsciiString EXPECT = AsciiString.cached("expect");
  public static final AsciiString SERVER = AsciiString.cached("server");
  public static final AsciiString VIA = AsciiString.cached("via");
  public static final AsciiString DATE = AsciiString.cached("date");
  public static final AsciiString LOCATION = AsciiString.cached("location");
  public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
  public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  public static final AsciiString X_ENVOY_INTERNAL = AsciiString.cached("x-envoy-internal");
  public static final AsciiString X_ENVOY_EXTERNAL_ADDRESS = AsciiString.cached("x-envoy-external-address");
  public static final AsciiString X_ENVOY_ORIGINAL_PATH = AsciiString.cached("x-envoy-original-path");
  public static final AsciiString X_ENVOY_UPSTREAM_SERVICE_TIME = AsciiString.cached("x-envoy-upstream-service-time");
  public static final AsciiString X_ENVOY_EXPECTED_RQ_TIMEOUT_MS = AsciiString.cached("x-envoy-expected-rq-timeout-ms");
  public static final AsciiString X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS = AsciiString.cached("x-envoy-upstream-rq-timeout-ms");
  public static final AsciiString X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS = AsciiString.cached("x-envoy-upstream-rq-per-try-timeout-ms");
  public static final AsciiString X_ENVOY_ATTEMPT_COUNT = AsciiString.cached("x-envoy-attempt-count");
  public static final AsciiString X_ENVOY_DECORATOR_OPERATION = AsciiString.cached("x-envoy-decorator-operation");
  public static final AsciiString X_ENVOY_RETRY_ON = AsciiString.cached("x-envoy-retry-on");
  public static final AsciiString X_ENVOY_RETRY_GRPC_ON = AsciiString.cached("x-envoy-retry-grpc-on");
  public static final AsciiString X_ENVOY_MAX_RETRIES = AsciiString.cached("x-envoy-max-retries");
  public static final AsciiString X_ENVOY_HEDGE_ON_PER_TRY_TIMEOUT = AsciiString.cached("x-envoy-hedge-on-per-try-timeout");
  public static final AsciiString X_ENVOY_IMMEDIATE_HEALTH_CHECK_FAIL = AsciiString.cached("x-envoy-immediate-health-check-fail");
  public static final AsciiString X_ENVOY_OVERLOADED = AsciiString.cached("x-envoy-overloaded");
  public static final AsciiString GRPC_TIMEOUT = AsciiString.cached("grpc-timeout");
  public static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
  public static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
  public static final AsciiString APPLICATION_GRPC = AsciiString.cached("application/grpc");
  public static final AsciiString HTTP = AsciiString.cached("http");
  public static final AsciiString HTTPS = AsciiString.cached("https");
  public static final AsciiString TRUE = AsciiString.cached("true");
  public static final AsciiString CLOSE = AsciiString.cached("close");
  public static final AsciiString CHUNKED = AsciiString.cached("chunked");
  public static final AsciiString WEBSOCKET = AsciiString.cached("websocket");
  public static final AsciiString CONNECT = AsciiString.cached("CONNECT");

  /**
   * Request headers Envoy trusts only from internal clients: removed from external requests when
   * the connection manager uses the remote address (Envoy's header sanitizing).
   */
  static final AsciiString[] ENVOY_CONTROL_HEADERS = {
    X_ENVOY_RETRY_ON, X_ENVOY_RETRY_GRPC_ON, X_ENVOY_MAX_RETRIES, X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS,
    X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS, X_ENVOY_EXPECTED_RQ_TIMEOUT_MS,
    X_ENVOY_HEDGE_ON_PER_TRY_TIMEOUT, X_ENVOY_EXTERNAL_ADDRESS,
    AsciiString.cached("x-envoy-downstream-service-cluster"),
    AsciiString.cached("x-envoy-downstream-service-node"),
    AsciiString.cached("x-envoy-retriable-status-codes"),
    AsciiString.cached("x-envoy-retriable-header-names"),
    AsciiString.cached("x-envoy-upstream-alt-stat-name"),
    AsciiString.cached("x-envoy-upstream-rq-timeout-alt-response"),
    AsciiString.cached("x-envoy-ip-tags"),
  };

  private Headers() {}

  /** True if {@code value} equals {@code expected} ignoring ASCII case. */
  public static boolean eqIgnoreCase(CharSequence value, CharSequence expected) {
    return AsciiString.contentEqualsIgnoreCase(value, expected);
  }

  /** True if the comma-separated header value contains {@code token} (case-insensitive). */
  public static boolean containsToken(CharSequence value, CharSequence token) {
    int n = value.length();
    int i = 0;
    while (i < n) {
      int end = i;
      while (end < n && value.charAt(end) != ',') {
        end++;
      }
      int a = i;
      int b = end;
      while (a < b && (value.charAt(a) == ' ' || value.charAt(a) == '\t')) {
        a++;
      }
      while (b > a && (value.charAt(b - 1) == ' ' || value.charAt(b - 1) == '\t')) {
        b--;
      }
      if (b - a == token.length() && AsciiString.regionMatches(value, true, a, token, 0, b - a)) {
        return true;
      }
      i = end + 1;
    }
    return false;
  }
}
