package dev.sluice.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.accesslog.SubstitutionFormatConfig;
import dev.sluice.accesslog.SubstitutionFormatter;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Rendering one access log line for a completed stream: Envoy's default format, Istio's default
 * sidecar text format, and a JSON format with the same fields.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AccessLogBenchmark {
  /** Istio's default proxy access log format (meshConfig.accessLogFormat unset). */
  static final String ISTIO_FORMAT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
          + "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
          + "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
          + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
          + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% "
          + "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
          + "%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

  private SubstitutionFormatter envoyDefault;
  private SubstitutionFormatter istio;
  private SubstitutionFormatter json;
  private StreamInfo info;

  @Setup
  public void setUp() {
    envoyDefault = SubstitutionFormatConfig.defaultFormatter();
    istio = SubstitutionFormatter.compile(ISTIO_FORMAT);
    Struct.Builder fields = Struct.newBuilder();
    for (String[] f : new String[][] {
        {"start_time", "%START_TIME%"}, {"method", "%REQ(:METHOD)%"},
        {"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"}, {"protocol", "%PROTOCOL%"},
        {"response_code", "%RESPONSE_CODE%"}, {"response_flags", "%RESPONSE_FLAGS%"},
        {"bytes_received", "%BYTES_RECEIVED%"}, {"bytes_sent", "%BYTES_SENT%"}, {"duration", "%DURATION%"},
        {"x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"}, {"user_agent", "%REQ(USER-AGENT)%"},
        {"request_id", "%REQ(X-REQUEST-ID)%"}, {"authority", "%REQ(:AUTHORITY)%"},
        {"upstream_host", "%UPSTREAM_HOST%"}, {"upstream_cluster", "%UPSTREAM_CLUSTER%"},
        {"downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"}, {"route_name", "%ROUTE_NAME%"}}) {
      fields.putFields(f[0], Value.newBuilder().setStringValue(f[1]).build());
    }
    json = SubstitutionFormatConfig.json(fields.build(), true, false, false, "json_format");
    info = completedStream();
  }

  @Benchmark
  public String envoyDefaultText() {
    return envoyDefault.format(info);
  }

  @Benchmark
  public String istioText() {
    return istio.format(info);
  }

  @Benchmark
  public String json() {
    return json.format(info);
  }

  /** A stream as the connection manager leaves it when the response completed. */
  private static StreamInfo completedStream() {
    long start = System.nanoTime();
    StreamInfo i = new StreamInfo(System.currentTimeMillis(), start);
    i.lastDownstreamRxNanos = start + 20_000;
    i.lastUpstreamTxNanos = start + 40_000;
    i.firstUpstreamRxNanos = start + 900_000;
    i.lastDownstreamTxNanos = start + 1_100_000;
    i.endNanos = start + 1_200_000;
    i.requestHeaders = new DefaultHttp2Headers().method("GET").path("/reviews/0").authority("reviews:9080")
        .scheme("http").add("x-forwarded-for", "10.0.35.28").add("user-agent", "Mozilla/5.0")
        .add("x-request-id", "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2");
    i.responseHeaders = new DefaultHttp2Headers().status("200").add("x-envoy-upstream-service-time", "1");
    i.responseCode = 200;
    i.responseCodeDetails = "via_upstream";
    i.bytesReceived = 0;
    i.bytesSent = 358;
    i.protocol = "HTTP/1.1";
    i.requestId = "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2";
    i.routeName = "default";
    i.upstreamCluster = "outbound|9080||reviews.default.svc.cluster.local";
    i.upstreamHost = "10.0.2.1:9080";
    i.upstreamLocalAddress = new InetSocketAddress("127.0.0.1", 41000);
    i.downstreamRemoteAddress = new InetSocketAddress("127.0.0.1", 52000);
    i.downstreamDirectRemoteAddress = i.downstreamRemoteAddress;
    i.downstreamLocalAddress = new InetSocketAddress("127.0.0.1", 9080);
    i.connectionId = 42;
    i.attemptCount = 1;
    i.setFlag(ResponseFlag.NO_HEALTHY_UPSTREAM);
    return i;
  }
}
