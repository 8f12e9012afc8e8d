package dev.sluice.extensions.access_loggers.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.accesslog.AccessLogWriters;
import dev.sluice.accesslog.AccessLogs;
import dev.sluice.accesslog.TestFactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileAccessLoggerFactoryTest {
  @TempDir Path dir;
  private final TestFactoryContext ctx = new TestFactoryContext();

  @BeforeEach
  void shortFlushInterval() {
    AccessLogWriters.setFlushInterval(Duration.ofMillis(20));
  }

  @AfterEach
  void stopWriters() {
    AccessLogWriters.shutdown();
    AccessLogWriters.setFlushInterval(Duration.ofSeconds(10));
  }

  private static AccessLog accessLog(String json) throws Exception {
    AccessLog.Builder b = AccessLog.newBuilder();
    JsonFormat.parser()
        .usingTypeRegistry(
            JsonFormat.TypeRegistry.newBuilder()
                .add(FileAccessLog.getDescriptor())
                .add(StdoutAccessLog.getDescriptor())
                .build())
        .merge(json, b);
    return b.build();
  }

  private static StreamInfo request(String path, int status) {
    StreamInfo info = StreamInfo.startNow();
    info.requestHeaders = new DefaultHttp2Headers().method("GET").path(path).authority("reviews:9080");
    info.responseCode = status;
    info.protocol = "HTTP/1.1";
    info.endNanos = info.startNanos + 1_000_000;
    return info;
  }

  @Test
  void filteredJsonLogEndToEnd() throws Exception {
    Path file = dir.resolve("access.json");
    AccessLogger logger =
        AccessLogs.compile(
            List.of(
                accessLog(
                    """
                    {"name": "envoy.access_loggers.file",
                     "filter": {"status_code_filter": {"comparison": {"op": "GE",
                        "value": {"default_value": 400, "runtime_key": "k"}}}},
                     "typed_config": {"@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                       "path": "%s",
                       "log_format": {"json_format": {"path": "%%REQ(:PATH)%%", "code": "%%RESPONSE_CODE%%"}}}}
                    """
                        .formatted(file))),
            ctx);
    logger.log(request("/ok", 200));
    logger.log(request("/missing", 404));
    logger.log(request("/broken", 503));
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && Files.readAllLines(file).size() == 2);
    assertThat(Files.readAllLines(file))
        .containsExactly("{\"path\":\"/missing\",\"code\":404}", "{\"path\":\"/broken\",\"code\":503}");
    assertThat(ctx.stats.counter("filesystem.write_buffered").value()).isEqualTo(2);
  }

  @Test
  void defaultFormatAndSharedWriterForTwoLoggers() throws Exception {
    Path file = dir.resolve("access.log");
    String entry =
        """
        {"name": "envoy.access_loggers.file",
         "typed_config": {"@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
           "path": "%s"}}
        """
            .formatted(file);
    AccessLogger logger = AccessLogs.compile(List.of(accessLog(entry), accessLog(entry)), ctx);
    logger.log(request("/productpage", 200));
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && Files.readAllLines(file).size() == 2);
    assertThat(Files.readAllLines(file))
        .allSatisfy(
            l -> assertThat(l).matches("\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\] \"GET /productpage HTTP/1.1\" 200 - 0 0 1 - \"-\" \"-\" \"-\" \"reviews:9080\" \"-\""));
  }

  @Test
  void legacyFormatFieldAndStdoutLogger() throws Exception {
    Path file = dir.resolve("legacy.log");
    AccessLogger logger =
        AccessLogs.compile(
            List.of(
                accessLog(
                    """
                    {"name": "envoy.access_loggers.file",
                     "typed_config": {"@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                       "path": "%s", "format": "%%RESPONSE_CODE%% %%REQ(:PATH)%%\\n"}}
                    """
                        .formatted(file)),
                accessLog(
                    """
                    {"name": "envoy.access_loggers.stdout",
                     "typed_config": {"@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                       "log_format": {"text_format_source": {"inline_string": "sluice test stdout %%RESPONSE_CODE%%\\n"}}}}
                    """)),
            ctx);
    logger.log(request("/a", 201));
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && Files.readString(file).equals("201 /a\n"));
  }

  @Test
  void configErrorsCarryTheFieldPath() throws Exception {
    AccessLog badFormat =
        accessLog(
            """
            {"name": "envoy.access_loggers.file",
             "typed_config": {"@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
               "path": "/tmp/x", "log_format": {"text_format_source": {"inline_string": "%NOPE%"}}}}
            """);
    assertThatThrownBy(() -> AccessLogs.compile(List.of(badFormat), ctx))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> assertThat(e.fieldPath()).isEqualTo("access_log[0].typed_config.log_format.text_format_source"))
        .hasMessageContaining("NOPE");
    AccessLog unknown =
        AccessLog.newBuilder().setName("x").setTypedConfig(Any.newBuilder().setTypeUrl("type.googleapis.com/x.Unknown")).build();
    assertThatThrownBy(() -> AccessLogs.compile(List.of(unknown), ctx))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("access_log[0].typed_config"));
    AccessLog noPath = AccessLog.newBuilder().setName("f").setTypedConfig(Any.pack(FileAccessLog.getDefaultInstance())).build();
    assertThatThrownBy(() -> AccessLogs.compile(List.of(noPath), ctx))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("access_log[0].typed_config.path"));
    assertThat(AccessLogs.compile(List.of(), ctx)).isSameAs(AccessLogger.NOOP);
  }
}
