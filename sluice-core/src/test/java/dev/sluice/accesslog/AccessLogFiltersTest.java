package dev.sluice.accesslog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.BoolValue;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.MetadataFilter;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class AccessLogFiltersTest {
  private static Predicate<StreamInfo> filter(String json) {
    return filter(json, () -> 0L);
  }

  private static Predicate<StreamInfo> filter(String json, RandomGenerator random) {
    AccessLogFilter.Builder b = AccessLogFilter.newBuilder();
    try {
      JsonFormat.parser().merge(json, b);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    return AccessLogFilters.compile(b.build(), "filter", random);
  }

  @Test
  void statusCodeComparison() {
    StreamInfo info = StreamInfos.filled(); // 204
    assertThat(filter("{\"status_code_filter\":{\"comparison\":{\"op\":\"GE\",\"value\":{\"default_value\":400,\"runtime_key\":\"k\"}}}}").test(info)).isFalse();
    assertThat(filter("{\"status_code_filter\":{\"comparison\":{\"op\":\"LE\",\"value\":{\"default_value\":204,\"runtime_key\":\"k\"}}}}").test(info)).isTrue();
    assertThat(filter("{\"status_code_filter\":{\"comparison\":{\"op\":\"EQ\",\"value\":{\"default_value\":204,\"runtime_key\":\"k\"}}}}").test(info)).isTrue();
  }

  @Test
  void durationComparison() {
    StreamInfo info = StreamInfos.filled(); // 226 ms
    assertThat(filter("{\"duration_filter\":{\"comparison\":{\"op\":\"GE\",\"value\":{\"default_value\":200,\"runtime_key\":\"k\"}}}}").test(info)).isTrue();
    assertThat(filter("{\"duration_filter\":{\"comparison\":{\"op\":\"GE\",\"value\":{\"default_value\":227,\"runtime_key\":\"k\"}}}}").test(info)).isFalse();
  }

  @Test
  void runtimeFilterUsesRequestIdThenRandomness() {
    StreamInfo info = StreamInfos.filled(); // x-request-id cc21d9b0-... -> 0xcc21d9b0 % 100 = 80
    String at80 = "{\"runtime_filter\":{\"runtime_key\":\"k\",\"percent_sampled\":{\"numerator\":80}}}";
    String at81 = "{\"runtime_filter\":{\"runtime_key\":\"k\",\"percent_sampled\":{\"numerator\":81}}}";
    assertThat(0xcc21d9b0L % 100).isEqualTo(80);
    assertThat(filter(at80).test(info)).isFalse();
    assertThat(filter(at81).test(info)).isTrue();
    String independent =
        "{\"runtime_filter\":{\"runtime_key\":\"k\",\"percent_sampled\":{\"numerator\":50},\"use_independent_randomness\":true}}";
    assertThat(filter(independent, () -> 49L).test(info)).isTrue();
    assertThat(filter(independent, () -> 150L).test(info)).isFalse();
    info.requestHeaders.remove("x-request-id");
    assertThat(filter(at80, () -> 79L).test(info)).isTrue();
  }

  @Test
  void andOrNotHealthCheckTraceable() {
    StreamInfo info = StreamInfos.filled();
    String ok = "{\"status_code_filter\":{\"comparison\":{\"op\":\"EQ\",\"value\":{\"default_value\":204,\"runtime_key\":\"k\"}}}}";
    String no = "{\"status_code_filter\":{\"comparison\":{\"op\":\"EQ\",\"value\":{\"default_value\":500,\"runtime_key\":\"k\"}}}}";
    assertThat(filter("{\"and_filter\":{\"filters\":[" + ok + "," + no + "]}}").test(info)).isFalse();
    assertThat(filter("{\"or_filter\":{\"filters\":[" + no + "," + ok + "]}}").test(info)).isTrue();
    assertThat(filter("{\"and_filter\":{\"filters\":[{\"not_health_check_filter\":{}},{\"traceable_filter\":{}}]}}").test(info)).isTrue();
    assertThatThrownBy(() -> filter("{\"and_filter\":{\"filters\":[" + ok + "]}}"))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("filter.and_filter.filters"));
  }

  @Test
  void headerFilter() {
    StreamInfo info = StreamInfos.filled();
    assertThat(filter("{\"header_filter\":{\"header\":{\"name\":\"User-Agent\",\"string_match\":{\"prefix\":\"NSQ\",\"ignore_case\":true}}}}").test(info)).isTrue();
    assertThat(filter("{\"header_filter\":{\"header\":{\"name\":\"x-missing\",\"present_match\":false}}}").test(info)).isTrue();
    assertThat(filter("{\"header_filter\":{\"header\":{\"name\":\"x-missing\",\"exact_match\":\"\"}}}").test(info)).isFalse();
    assertThat(filter("{\"header_filter\":{\"header\":{\"name\":\"x-missing\",\"exact_match\":\"\",\"treat_missing_header_as_empty\":true}}}").test(info)).isTrue();
    assertThat(filter("{\"header_filter\":{\"header\":{\"name\":\":method\",\"safe_regex_match\":{\"regex\":\"PO.T\"},\"invert_match\":true}}}").test(info)).isFalse();
    assertThatThrownBy(() -> filter("{\"header_filter\":{\"header\":{\"name\":\"a\",\"safe_regex_match\":{\"regex\":\"(\"}}}}"))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("filter.header_filter.header.safe_regex_match.regex"));
  }

  @Test
  void responseFlagFilter() {
    StreamInfo info = StreamInfos.filled(); // UH, URX
    assertThat(filter("{\"response_flag_filter\":{}}").test(info)).isTrue();
    assertThat(filter("{\"response_flag_filter\":{\"flags\":[\"UF\",\"URX\"]}}").test(info)).isTrue();
    assertThat(filter("{\"response_flag_filter\":{\"flags\":[\"UF\",\"DR\"]}}").test(info)).isFalse();
    info.responseFlags = 0;
    assertThat(filter("{\"response_flag_filter\":{}}").test(info)).isFalse();
    info.setFlag(ResponseFlag.NO_ROUTE_FOUND);
    assertThat(filter("{\"response_flag_filter\":{\"flags\":[\"NR\"]}}").test(info)).isTrue();
    assertThatThrownBy(() -> filter("{\"response_flag_filter\":{\"flags\":[\"XX\"]}}"))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("filter.response_flag_filter.flags[0]"));
  }

  @Test
  void grpcStatusFilter() {
    StreamInfo info = StreamInfos.filled();
    info.responseTrailers.set("grpc-status", "14");
    assertThat(filter("{\"grpc_status_filter\":{\"statuses\":[\"UNAVAILABLE\"]}}").test(info)).isTrue();
    assertThat(filter("{\"grpc_status_filter\":{\"statuses\":[\"UNAVAILABLE\"],\"exclude\":true}}").test(info)).isFalse();
    info.responseTrailers.remove("grpc-status");
    info.responseHeaders.set("grpc-status", "0");
    assertThat(filter("{\"grpc_status_filter\":{\"statuses\":[\"OK\"]}}").test(info)).isTrue();
    info.responseHeaders.remove("grpc-status");
    info.responseCode = 404; // inferred UNIMPLEMENTED
    assertThat(filter("{\"grpc_status_filter\":{\"statuses\":[\"UNIMPLEMENTED\"]}}").test(info)).isTrue();
    info.responseCode = 0; // no status at all: UNKNOWN
    assertThat(filter("{\"grpc_status_filter\":{\"statuses\":[\"UNKNOWN\"]}}").test(info)).isTrue();
  }

  @Test
  void logTypeAndMetadataFilters() {
    StreamInfo http = StreamInfos.filled();
    StreamInfo tcp = new StreamInfo(1, 1);
    Predicate<StreamInfo> downstreamEnd = filter("{\"log_type_filter\":{\"types\":[\"DownstreamEnd\"]}}");
    assertThat(downstreamEnd.test(http)).isTrue();
    assertThat(downstreamEnd.test(tcp)).isFalse();
    assertThat(filter("{\"log_type_filter\":{\"types\":[\"DownstreamEnd\"],\"exclude\":true}}").test(tcp)).isTrue();
    assertThat(filter("{\"metadata_filter\":{}}").test(http)).isTrue();
    AccessLogFilter notFoundFalse =
        AccessLogFilter.newBuilder()
            .setMetadataFilter(MetadataFilter.newBuilder().setMatchIfKeyNotFound(BoolValue.of(false)))
            .build();
    assertThat(AccessLogFilters.compile(notFoundFalse, "f", () -> 0L).test(http)).isFalse();
  }

  @Test
  void extensionFilterIsRejected() {
    assertThatThrownBy(() -> filter("{\"extension_filter\":{\"name\":\"x\"}}"))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo("filter.extension_filter"));
  }
}
