package dev.sluice.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.JsonFormatOptions;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import org.junit.jupiter.api.Test;

class SubstitutionFormatConfigTest {
  private static Struct struct(String json) throws Exception {
    Struct.Builder b = Struct.newBuilder();
    JsonFormat.parser().merge(json, b);
    return b.build();
  }

  private static SubstitutionFormatConfig json(String json, boolean omit) throws Exception {
    return SubstitutionFormatConfig.compile(
        SubstitutionFormatString.newBuilder().setJsonFormat(struct(json)).setOmitEmptyValues(omit).build());
  }

  @Test
  void jsonFormatTypesNumbersAndKeepsStrings() throws Exception {
    SubstitutionFormatConfig c =
        json(
            """
            {"start_time": "%START_TIME%", "method": "%REQ(:METHOD)%", "response_code": "%RESPONSE_CODE%",
             "bytes_received": "%BYTES_RECEIVED%", "duration": "%DURATION%", "port": "%DOWNSTREAM_LOCAL_PORT%",
             "duration_text": "%DURATION%ms", "missing": "%REQ(x-missing)%", "quoted": "%CONNECTION_TERMINATION_DETAILS%",
             "nested": {"cluster": "%UPSTREAM_CLUSTER%", "list": ["%PROTOCOL%", 7]}, "constant": 1.5, "flag": true}
            """,
            false);
    StreamInfo info = StreamInfos.filled();
    info.connectionTerminationDetails = "a\"b\\c\n";
    assertThat(c.contentType()).isEqualTo("application/json");
    assertThat(c.formatter().format(info))
        .isEqualTo(
            "{\"start_time\":\"2016-04-15T20:17:00.310Z\",\"method\":\"POST\",\"response_code\":204,"
                + "\"bytes_received\":154,\"duration\":226,\"port\":9080,\"duration_text\":\"226ms\","
                + "\"missing\":null,\"quoted\":\"a\\\"b\\\\c\\n\","
                + "\"nested\":{\"cluster\":\"outbound|9080||reviews.default.svc.cluster.local\",\"list\":[\"HTTP/2\",7]},"
                + "\"constant\":1.5,\"flag\":true}\n");
  }

  @Test
  void omitEmptyValuesDropsAbsentKeys() throws Exception {
    SubstitutionFormatConfig c = json("{\"a\": \"%REQ(x-missing)%\", \"b\": \"%PROTOCOL%\", \"c\": \"%ROUTE_NAME%\"}", true);
    StreamInfo info = StreamInfos.filled();
    info.routeName = null;
    assertThat(c.formatter().format(info)).isEqualTo("{\"b\":\"HTTP/2\"}\n");
  }

  @Test
  void sortPropertiesOrdersKeys() throws Exception {
    SubstitutionFormatConfig c =
        SubstitutionFormatConfig.compile(
            SubstitutionFormatString.newBuilder()
                .setJsonFormat(struct("{\"z\": \"%PROTOCOL%\", \"a\": \"%RESPONSE_CODE%\"}"))
                .setJsonFormatOptions(JsonFormatOptions.newBuilder().setSortProperties(true))
                .build());
    assertThat(c.formatter().format(StreamInfos.filled())).isEqualTo("{\"a\":204,\"z\":\"HTTP/2\"}\n");
  }

  @Test
  void legacyUntypedJsonRendersStringsAndDashes() throws Exception {
    SubstitutionFormatter f =
        SubstitutionFormatConfig.json(struct("{\"code\": \"%RESPONSE_CODE%\", \"x\": \"%REQ(x-missing)%\"}"), false, false, false, "json_format");
    assertThat(f.format(StreamInfos.filled())).isEqualTo("{\"code\":\"204\",\"x\":\"-\"}\n");
  }

  @Test
  void textFormatSourceAndContentType() {
    SubstitutionFormatConfig c =
        SubstitutionFormatConfig.compile(
            SubstitutionFormatString.newBuilder()
                .setTextFormatSource(DataSource.newBuilder().setInlineString("%RESPONSE_CODE% %REQ(x-missing)%\n"))
                .setOmitEmptyValues(true)
                .setContentType("text/html")
                .build());
    assertThat(c.contentType()).isEqualTo("text/html");
    assertThat(c.formatter().format(StreamInfos.filled())).isEqualTo("204 \n");
  }

  @Test
  void errorsNameTheField() throws Exception {
    assertThatThrownBy(() -> json("{\"a\": {\"b\": \"%NOPE%\"}}", false))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("json_format.a.b"));
    assertThatThrownBy(
            () ->
                SubstitutionFormatConfig.compile(
                    SubstitutionFormatString.newBuilder()
                        .setTextFormatSource(DataSource.newBuilder().setInlineString("%BAD%"))
                        .build()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("text_format_source"));
    assertThatThrownBy(() -> SubstitutionFormatConfig.compile(SubstitutionFormatString.getDefaultInstance()))
        .isInstanceOf(ConfigException.class);
  }

  @Test
  void formatterExtensionsBuiltInAreAcceptedOthersRejected() {
    SubstitutionFormatString.Builder b =
        SubstitutionFormatString.newBuilder()
            .setTextFormatSource(DataSource.newBuilder().setInlineString("%REQ_WITHOUT_QUERY(:PATH)%"))
            .addFormatters(
                TypedExtensionConfig.newBuilder()
                    .setName("envoy.formatter.req_without_query")
                    .setTypedConfig(
                        Any.newBuilder()
                            .setTypeUrl("type.googleapis.com/envoy.extensions.formatter.req_without_query.v3.ReqWithoutQuery")));
    assertThat(SubstitutionFormatConfig.compile(b.build()).formatter().format(StreamInfos.filled()))
        .isEqualTo("/api/v1/locations");
    b.addFormatters(
        TypedExtensionConfig.newBuilder().setName("x").setTypedConfig(Any.newBuilder().setTypeUrl("type.googleapis.com/x.Y")));
    assertThatThrownBy(() -> SubstitutionFormatConfig.compile(b.build()))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("formatters[1]"));
  }
}
