package dev.sluice.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SubstitutionFormatterTest {
  /** Istio's EnvoyTextLogFormat (pilot/pkg/model/telemetry_logging.go), its sidecar default. */
  static final String ISTIO_TEXT_FORMAT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% "
          + "%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% "
          + "%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
          + "\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% "
          + "%DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" "
          + "\"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" "
          + "\"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% "
          + "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
          + "%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

  private static String render(String format, StreamInfo info) {
    return SubstitutionFormatter.compile(format).format(info);
  }

  @Test
  void defaultFormatMatchesEnvoysExample() {
    assertThat(SubstitutionFormatConfig.defaultFormatter().format(StreamInfos.filled()))
        .isEqualTo(
            "[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations?a=1&b=x%20y HTTP/2\" 204 UH,URX 154 0 226 100"
                + " \"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"locations\""
                + " \"10.0.2.1:80\"\n");
  }

  @Test
  void defaultFormatForAnEmptyTcpStream() {
    StreamInfo tcp = new StreamInfo(StreamInfos.START_MILLIS, 5);
    assertThat(SubstitutionFormatConfig.defaultFormatter().format(tcp))
        .isEqualTo("[2016-04-15T20:17:00.310Z] \"- - -\" 0 - 0 0 - - \"-\" \"-\" \"-\" \"-\" \"-\"\n");
  }

  @Test
  void istioSidecarFormat() {
    StreamInfo info = StreamInfos.filled();
    info.requestHeaders.add("x-envoy-original-path", "/original");
    assertThat(render(ISTIO_TEXT_FORMAT, info))
        .isEqualTo(
            "[2016-04-15T20:17:00.310Z] \"POST /original HTTP/2\" 204 UH,URX via_upstream - \"-\" 154 0 226 100"
                + " \"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"locations\""
                + " \"10.0.2.1:80\" outbound|9080||reviews.default.svc.cluster.local 10.0.0.5:41000 10.0.0.5:9080"
                + " 10.0.35.28:52000 outbound_.9080_._.reviews.default.svc.cluster.local default\n");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiterString = " => ",
      value = {
        "%PROTOCOL% => HTTP/2",
        "%RESPONSE_CODE% => 204",
        "%RESPONSE_CODE_DETAILS% => via_upstream",
        "%RESPONSE_FLAGS% => UH,URX",
        "%RESPONSE_FLAGS_LONG% => NoHealthyUpstream,UpstreamRetryLimitExceeded",
        "%BYTES_RECEIVED% => 154",
        "%BYTES_SENT% => 0",
        "%UPSTREAM_WIRE_BYTES_SENT% => 300",
        "%UPSTREAM_WIRE_BYTES_RECEIVED% => 120",
        "%DURATION% => 226",
        "%REQUEST_DURATION% => 2",
        "%REQUEST_TX_DURATION% => 3",
        "%RESPONSE_DURATION% => 100",
        "%RESPONSE_TX_DURATION% => 126",
        "%UPSTREAM_HOST% => 10.0.2.1:80",
        "%UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% => 10.0.2.1",
        "%UPSTREAM_REMOTE_PORT% => 80",
        "%UPSTREAM_CLUSTER% => outbound|9080||reviews.default.svc.cluster.local",
        "%UPSTREAM_LOCAL_ADDRESS% => 10.0.0.5:41000",
        "%UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% => 10.0.0.5",
        "%UPSTREAM_LOCAL_PORT% => 41000",
        "%UPSTREAM_TRANSPORT_FAILURE_REASON% => -",
        "%DOWNSTREAM_REMOTE_ADDRESS% => 10.0.35.28:52000",
        "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% => 10.0.35.28",
        "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(16)% => 10.0.0.0/16",
        "%DOWNSTREAM_REMOTE_PORT% => 52000",
        "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS% => 10.0.0.9:52001",
        "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT% => 10.0.0.9",
        "%DOWNSTREAM_LOCAL_ADDRESS% => 10.0.0.5:9080",
        "%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% => 10.0.0.5",
        "%DOWNSTREAM_LOCAL_PORT% => 9080",
        "%REQUESTED_SERVER_NAME% => outbound_.9080_._.reviews.default.svc.cluster.local",
        "%ROUTE_NAME% => default",
        "%CONNECTION_ID% => 42",
        "%UPSTREAM_REQUEST_ATTEMPT_COUNT% => 1",
        "%CONNECTION_TERMINATION_DETAILS% => -",
        "%STREAM_ID% => cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2",
        "%REQ(:METHOD)% => POST",
        "%REQ(:path)% => /api/v1/locations?a=1&b=x%20y",
        "%REQUEST_HEADER(User-Agent)% => nsq2http",
        "%REQ(X-MISSING?USER-AGENT)% => nsq2http",
        "%REQ(USER-AGENT):3% => nsq",
        "%REQ(X-MISSING)% => -",
        "%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)% => /api/v1/locations",
        "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% => 100",
        "%RESPONSE_HEADER(:status)% => 204",
        "%TRAILER(GRPC-MESSAGE)% => fine",
        "%RESPONSE_TRAILER(grpc-message)% => fine",
        "%PATH% => /api/v1/locations?a=1&b=x%20y",
        "%PATH(NQ)% => /api/v1/locations",
        "%QUERY_PARAM(b)% => x y",
        "%QUERY_PARAM(c)% => -",
        "%ACCESS_LOG_TYPE% => DownstreamEnd",
        "%START_TIME% => 2016-04-15T20:17:00.310Z",
        "%START_TIME(%s)% => 1460751420",
        "%START_TIME(%s.%3f)% => 1460751420.310",
        "%START_TIME(%s.%6f)% => 1460751420.310000",
        "%START_TIME(%s.%9f)% => 1460751420.310000000",
        "%START_TIME(%f)% => 310000000",
        "%START_TIME(%Y/%m/%dT%H:%M:%S%z)% => 2016/04/15T20:17:00+0000",
        "%START_TIME(%a %b %e %j %T %F %p %I)% => Fri Apr 15 106 20:17:00 2016-04-15 PM 08",
        "%START_TIME(%E*S|%E6S)% => 00.31|00.310000",
        "%DYNAMIC_METADATA(istio.mixer:status)% => -",
        "%FILTER_STATE(istio.peer:TYPED)% => -",
        "%CEL(request.path)% => -",
        "%UPSTREAM_PEER_URI_SAN% => -",
        "100%% done => 100% done",
        "%%%PROTOCOL%%% => %HTTP/2%",
        "plain text => plain text",
      })
  void operators(String format, String expected) {
    assertThat(render(format, StreamInfos.filled())).isEqualTo(expected);
  }

  @Test
  void grpcStatusFromTrailersHeadersOrHttpCode() {
    StreamInfo info = StreamInfos.filled();
    assertThat(render("%GRPC_STATUS%", info)).as("not a gRPC request").isEqualTo("-");
    info.requestHeaders.set("content-type", "application/grpc+proto");
    info.responseCode = 503;
    assertThat(render("%GRPC_STATUS% %GRPC_STATUS(SNAKE_STRING)% %GRPC_STATUS_NUMBER%", info))
        .isEqualTo("Unavailable UNAVAILABLE 14");
    info.responseHeaders.set("grpc-status", "5");
    assertThat(render("%GRPC_STATUS%", info)).isEqualTo("NotFound");
    info.responseTrailers.set("grpc-status", "3");
    assertThat(render("%GRPC_STATUS(CAMEL_STRING)% %GRPC_STATUS(NUMBER)%", info)).isEqualTo("InvalidArgument 3");
  }

  @Test
  void ipv6AddressesInBrackets() {
    StreamInfo info = StreamInfos.filled();
    info.downstreamRemoteAddress = StreamInfos.address("2001:db8:1234:5678:9abc:def0:1234:5678", 443);
    assertThat(render("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(64)%", info))
        .isEqualTo("[2001:db8:1234:5678:9abc:def0:1234:5678]:443 2001:db8:1234:5678::/64");
  }

  @Test
  void responseCodeDetailsWhitespace() {
    StreamInfo info = StreamInfos.filled();
    info.responseCodeDetails = "upstream reset before response";
    assertThat(render("%RESPONSE_CODE_DETAILS% %RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)%", info))
        .isEqualTo("upstream_reset_before_response upstream reset before response");
  }

  @Test
  void requestedServerNameFallsBackToHost() {
    StreamInfo info = StreamInfos.filled();
    info.requestedServerName = null;
    assertThat(render("%REQUESTED_SERVER_NAME%|%REQUESTED_SERVER_NAME(SNI_FIRST)%", info)).isEqualTo("-|locations");
    info.requestHeaders.add("x-envoy-original-host", "orig");
    assertThat(render("%REQUESTED_SERVER_NAME(HOST_FIRST:HOST)%|%REQUESTED_SERVER_NAME(HOST_FIRST)%", info))
        .isEqualTo("locations|orig");
  }

  @Test
  void hostnameUniqueIdAndHeaderBytes() {
    StreamInfo info = StreamInfos.filled();
    assertThat(render("%HOSTNAME%", info)).isNotEmpty().isNotEqualTo("-");
    assertThat(render("%UNIQUE_ID%", info)).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    info.responseHeaders = new DefaultHttp2Headers().add("ab", "cde");
    assertThat(render("%RESPONSE_HEADERS_BYTES%", info)).isEqualTo("5");
  }

  @Test
  void omitEmptyValuesRendersNothingForAbsent() {
    assertThat(SubstitutionFormatter.compile("a=%REQ(x-missing)%;", true).format(StreamInfos.filled())).isEqualTo("a=;");
  }

  @Test
  void unknownOperatorIsRejectedByName() {
    assertThatThrownBy(() -> SubstitutionFormatter.compile("%NOT_AN_OPERATOR%"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Not supported field in StreamInfo: NOT_AN_OPERATOR");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {"100% done", "%REQ(:path)", "%req(:path)%", "%REQ(:path", "%REQ(:path):x%", "%"})
  void malformedCommandsAreRejected(String format) {
    assertThatThrownBy(() -> SubstitutionFormatter.compile(format))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("Couldn't find valid command at position");
  }

  @Test
  void badArgumentsAreRejected() {
    assertThatThrownBy(() -> SubstitutionFormatter.compile("%REQ(a?b?c)%")).isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> SubstitutionFormatter.compile("%REQ%")).isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> SubstitutionFormatter.compile("%GRPC_STATUS(LOUD)%")).isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> SubstitutionFormatter.compile("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(200)%"))
        .isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> SubstitutionFormatConfig.text("%BAD%", false, "log_format.text_format"))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("log_format.text_format"));
  }
}
