package dev.sluice.extensions.filters.http.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.http.FilterStatus;
import dev.sluice.api.http.HttpFilterCallbacks;
import dev.sluice.api.http.Route;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import dev.sluice.stats.StatsStore;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.concurrent.EventExecutor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fault filter on its own: config validation, delay/abort decisions, header faults, limits, stats. */
class FaultFilterTest {
  private final StatsStore store = new StatsStore();
  private final FaultStats stats = new FaultStats(store.scope("http.in.fault."));
  private final EmbeddedChannel channel = new EmbeddedChannel();

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  static HTTPFault parse(String json) {
    HTTPFault.Builder b = HTTPFault.newBuilder();
    try {
      JsonFormat.parser().merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(e);
    }
    return b.build();
  }

  /** What the filter did to its stream. */
  final class Stream implements HttpFilterCallbacks {
    final StreamInfo info = StreamInfo.startNow();
    @Nullable Object perRoute;
    int replyStatus;
    int replyGrpcStatus = -1;
    @Nullable String replyBody;
    @Nullable ResponseFlag replyFlag;
    int continued;

    @Override
    public StreamInfo streamInfo() {
      return info;
    }

    @Override
    public DownstreamConnection connection() {
      throw new UnsupportedOperationException();
    }

    @Override
    public EventExecutor eventLoop() {
      return channel.eventLoop();
    }

    @Override
    public @Nullable Route route() {
      return new Route() {
        @Override
        public String name() {
          return "r";
        }

        @Override
        public @Nullable Object perFilterConfig(String filterName) {
          return filterName.equals(FaultFilterFactory.NAME) ? perRoute : null;
        }
      };
    }

    @Override
    public void clearRouteCache() {}

    @Override
    public void continueDecoding() {
      continued++;
    }

    @Override
    public void continueEncoding() {}

    @Override
    public void sendLocalReply(int status, String body, @Nullable ResponseFlag flag, String details) {
      replyStatus = status;
      replyBody = body;
      replyFlag = flag;
      assertThat(details).isEqualTo("fault_filter_abort");
    }

    @Override
    public void sendLocalReply(int status, String body, int grpcStatus, @Nullable ResponseFlag flag, String details) {
      sendLocalReply(status, body, flag, details);
      replyGrpcStatus = grpcStatus;
    }

    @Override
    public void resetStream() {}
  }

  private FaultFilter filter(String json, LongSupplier random, Stream s) {
    FaultFilter f = new FaultFilter(FaultFilterFactory.compile(parse(json)), stats, random);
    f.setCallbacks(s);
    return f;
  }

  private static Http2Headers request() {
    return new DefaultHttp2Headers().method("GET").path("/").authority("ratings");
  }

  // ---- config ----

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"delay\": {\"percentage\": {\"numerator\": 1}}}                     | delay.fault_delay_secifier",
      "{\"delay\": {\"fixed_delay\": \"0s\"}}                                 | delay.fixed_delay",
      "{\"abort\": {\"http_status\": 600}}                                    | abort.http_status",
      "{\"abort\": {\"http_status\": 199}}                                    | abort.http_status",
      "{\"abort\": {\"percentage\": {\"numerator\": 1}}}                     | abort.error_type",
      "{\"abort\": {\"http_status\": 503, \"percentage\": {\"numerator\": 1, \"denominator\": 7}}} | abort.percentage.denominator",
      "{\"headers\": [{\"exact_match\": \"x\"}], \"abort\": {\"http_status\": 503}} | headers[0].name",
      "{\"response_rate_limit\": {\"fixed_limit\": {}}}                       | response_rate_limit.fixed_limit.limit_kbps",
  })
  void badValuesNameTheirField(String json, String field) {
    HTTPFault config;
    try {
      config = parse(json);
    } catch (IllegalArgumentException e) {
      // An unknown enum number does not parse from JSON; build it as a proto would arrive.
      config = HTTPFault.newBuilder().setAbort(io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort.newBuilder()
          .setHttpStatus(503).setPercentage(io.envoyproxy.envoy.type.v3.FractionalPercent.newBuilder().setNumerator(1).setDenominatorValue(7))).build();
    }
    HTTPFault c = config;
    assertThatThrownBy(() -> FaultFilterFactory.compile(c))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.fieldPath()).isEqualTo(field));
  }

  @Test
  void istiosEmptyFilterConfigInjectsNothing() {
    Stream s = new Stream();
    assertThat(filter("{}", () -> 0, s).decodeHeaders(request(), true)).isEqualTo(FilterStatus.CONTINUE);
    assertThat(s.replyBody).isNull();
  }

  // ---- abort ----

  @Test
  void abortAnswersWithTheStatusAndFlagFI() {
    Stream s = new Stream();
    FaultFilter f = filter("{\"abort\": {\"http_status\": 503, \"percentage\": {\"numerator\": 100}}}", () -> 0, s);
    assertThat(f.decodeHeaders(request(), true)).isEqualTo(FilterStatus.STOP_ITERATION);
    assertThat(s.replyStatus).isEqualTo(503);
    assertThat(s.replyBody).isEqualTo("fault filter abort");
    assertThat(s.replyFlag).isEqualTo(ResponseFlag.FAULT_INJECTED);
    assertThat(stats.abortsInjected.value()).isEqualTo(1);
    assertThat(stats.activeFaults.value()).isEqualTo(1);
    f.onDestroy();
    assertThat(stats.activeFaults.value()).isZero();
  }

  @Test
  void unsetPercentageNeverAborts() {
    Stream s = new Stream();
    assertThat(filter("{\"abort\": {\"http_status\": 503}}", () -> 0, s).decodeHeaders(request(), true)).isEqualTo(FilterStatus.CONTINUE);
    assertThat(stats.abortsInjected.value()).isZero();
  }

  @Test
  void grpcAbortRepliesWithTheGrpcStatus() {
    Stream s = new Stream();
    filter("{\"abort\": {\"grpc_status\": 14, \"percentage\": {\"numerator\": 100}}}", () -> 0, s).decodeHeaders(request(), true);
    assertThat(s.replyStatus).isEqualTo(200);
    assertThat(s.replyGrpcStatus).isEqualTo(14);
  }

  @Test
  void headerAbortTakesTheStatusFromTheRequestHttpFirst() {
    String config = "{\"abort\": {\"header_abort\": {}, \"percentage\": {\"numerator\": 100}}}";
    Stream none = new Stream();
    assertThat(filter(config, () -> 0, none).decodeHeaders(request(), true)).isEqualTo(FilterStatus.CONTINUE);
    Stream bad = new Stream();
    assertThat(filter(config, () -> 0, bad).decodeHeaders(request().set("x-envoy-fault-abort-request", "700"), true))
        .isEqualTo(FilterStatus.CONTINUE);
    Stream http = new Stream();
    filter(config, () -> 0, http).decodeHeaders(request().set("x-envoy-fault-abort-request", "429")
        .set("x-envoy-fault-abort-grpc-request", "4"), true);
    assertThat(http.replyStatus).isEqualTo(429);
    assertThat(http.replyGrpcStatus).isEqualTo(-1);
    Stream grpc = new Stream();
    filter(config, () -> 0, grpc).decodeHeaders(request().set("x-envoy-fault-abort-grpc-request", "4"), true);
    assertThat(grpc.replyGrpcStatus).isEqualTo(4);
  }

  @Test
  void headerPercentageIsCappedByTheConfiguredOne() {
    String config = "{\"abort\": {\"header_abort\": {}, \"percentage\": {\"numerator\": 50}}}";
    // random 60 % 100 = 60: above 50% -> no abort, even when the header asks for 100%.
    Stream s = new Stream();
    filter(config, () -> 60, s).decodeHeaders(request().set("x-envoy-fault-abort-request", "503")
        .set("x-envoy-fault-abort-request-percentage", "100"), true);
    assertThat(s.replyStatus).isZero();
    // random 30: below 50 but above the header's 20 -> no abort.
    Stream lowered = new Stream();
    filter(config, () -> 30, lowered).decodeHeaders(request().set("x-envoy-fault-abort-request", "503")
        .set("x-envoy-fault-abort-request-percentage", "20"), true);
    assertThat(lowered.replyStatus).isZero();
    Stream hit = new Stream();
    filter(config, () -> 10, hit).decodeHeaders(request().set("x-envoy-fault-abort-request", "503")
        .set("x-envoy-fault-abort-request-percentage", "20"), true);
    assertThat(hit.replyStatus).isEqualTo(503);
  }

  // ---- delay ----

  @Test
  void delayHoldsTheRequestOnTheLoopThenContinues() {
    Stream s = new Stream();
    channel.freezeTime();
    FaultFilter f = filter("{\"delay\": {\"fixed_delay\": \"7s\", \"percentage\": {\"numerator\": 1000000, \"denominator\": \"MILLION\"}}}", () -> 0, s);
    assertThat(f.decodeHeaders(request(), false)).isEqualTo(FilterStatus.STOP_ITERATION);
    assertThat(s.info.hasFlag(ResponseFlag.DELAY_INJECTED)).isTrue();
    assertThat(stats.delaysInjected.value()).isEqualTo(1);
    channel.advanceTimeBy(6999, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(s.continued).isZero();
    channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(s.continued).isEqualTo(1);
    f.onDestroy();
    assertThat(stats.activeFaults.value()).isZero();
  }

  @Test
  void delayThenAbortAbortsWhenTheDelayEnds() {
    Stream s = new Stream();
    channel.freezeTime();
    FaultFilter f = filter("{\"delay\": {\"fixed_delay\": \"1s\", \"percentage\": {\"numerator\": 100}},"
        + " \"abort\": {\"http_status\": 500, \"percentage\": {\"numerator\": 100}}}", () -> 0, s);
    assertThat(f.decodeHeaders(request(), true)).isEqualTo(FilterStatus.STOP_ITERATION);
    assertThat(s.replyStatus).isZero();
    channel.advanceTimeBy(1, TimeUnit.SECONDS);
    channel.runScheduledPendingTasks();
    assertThat(s.replyStatus).isEqualTo(500);
    assertThat(s.continued).isZero();
    assertThat(stats.activeFaults.value()).isEqualTo(1);
  }

  @Test
  void destroyCancelsThePendingDelay() {
    Stream s = new Stream();
    channel.freezeTime();
    FaultFilter f = filter("{\"delay\": {\"fixed_delay\": \"1s\", \"percentage\": {\"numerator\": 100}}}", () -> 0, s);
    f.decodeHeaders(request(), true);
    f.onDestroy();
    channel.advanceTimeBy(2, TimeUnit.SECONDS);
    channel.runScheduledPendingTasks();
    assertThat(s.continued).isZero();
    assertThat(stats.activeFaults.value()).isZero();
  }

  @Test
  void headerDelayUsesTheRequestedMilliseconds() {
    String config = "{\"delay\": {\"header_delay\": {}, \"percentage\": {\"numerator\": 100}}}";
    Stream none = new Stream();
    assertThat(filter(config, () -> 0, none).decodeHeaders(request(), true)).isEqualTo(FilterStatus.CONTINUE);
    Stream s = new Stream();
    channel.freezeTime();
    assertThat(filter(config, () -> 0, s).decodeHeaders(request().set("x-envoy-fault-delay-request", "250"), true))
        .isEqualTo(FilterStatus.STOP_ITERATION);
    channel.advanceTimeBy(249, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(s.continued).isZero();
    channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
    assertThat(s.continued).isEqualTo(1);
  }

  // ---- eligibility ----

  @Test
  void headersAndDownstreamNodesRestrictTheFault() {
    String config = "{\"headers\": [{\"name\": \"end-user\", \"string_match\": {\"exact\": \"jason\"}}],"
        + " \"downstream_nodes\": [\"productpage\"], \"abort\": {\"http_status\": 500, \"percentage\": {\"numerator\": 100}}}";
    Stream noUser = new Stream();
    filter(config, () -> 0, noUser).decodeHeaders(request().set("x-envoy-downstream-service-node", "productpage"), true);
    assertThat(noUser.replyStatus).isZero();
    Stream otherNode = new Stream();
    filter(config, () -> 0, otherNode).decodeHeaders(request().set("end-user", "jason").set("x-envoy-downstream-service-node", "reviews"), true);
    assertThat(otherNode.replyStatus).isZero();
    Stream hit = new Stream();
    filter(config, () -> 0, hit).decodeHeaders(request().set("end-user", "jason").set("x-envoy-downstream-service-node", "productpage"), true);
    assertThat(hit.replyStatus).isEqualTo(500);
  }

  @Test
  void upstreamClusterNeedsARouteToThatCluster() {
    // The fake route is no RouteEntry: it names no cluster, so a fault bound to a cluster does not apply.
    Stream s = new Stream();
    filter("{\"upstream_cluster\": \"ratings\", \"abort\": {\"http_status\": 500, \"percentage\": {\"numerator\": 100}}}", () -> 0, s)
        .decodeHeaders(request(), true);
    assertThat(s.replyStatus).isZero();
  }

  @Test
  void maxActiveFaultsOverflows() {
    channel.freezeTime();
    String config = "{\"max_active_faults\": 1, \"delay\": {\"fixed_delay\": \"1s\", \"percentage\": {\"numerator\": 100}}}";
    Stream first = new Stream();
    FaultFilter f1 = filter(config, () -> 0, first);
    assertThat(f1.decodeHeaders(request(), true)).isEqualTo(FilterStatus.STOP_ITERATION);
    Stream second = new Stream();
    assertThat(filter(config, () -> 0, second).decodeHeaders(request(), true)).isEqualTo(FilterStatus.CONTINUE);
    assertThat(stats.faultsOverflow.value()).isEqualTo(1);
    assertThat(stats.delaysInjected.value()).isEqualTo(1);
    f1.onDestroy();
    Stream third = new Stream();
    assertThat(filter(config, () -> 0, third).decodeHeaders(request(), true)).isEqualTo(FilterStatus.STOP_ITERATION);
  }

  @Test
  void routeSettingsReplaceTheFiltersOwn() {
    Stream s = new Stream();
    s.perRoute = FaultFilterFactory.compile(parse("{\"abort\": {\"http_status\": 418, \"percentage\": {\"numerator\": 100}}}"));
    filter("{\"abort\": {\"http_status\": 500, \"percentage\": {\"numerator\": 100}}}", () -> 0, s).decodeHeaders(request(), true);
    assertThat(s.replyStatus).isEqualTo(418);
  }

  // ---- percentages, statistically ----

  /**
   * Over n requests with a seeded random source, the injected count stays within 5 standard
   * deviations of n*p for each denominator (a false failure has odds below 1 in 3 million).
   */
  @ParameterizedTest
  @CsvSource({"25, HUNDRED", "1250, TEN_THOUSAND", "333333, MILLION"})
  void percentagesHoldStatistically(int numerator, String denominator) {
    SplittableRandom rnd = new SplittableRandom(numerator);
    FaultSettings settings = FaultFilterFactory.compile(parse("{\"abort\": {\"http_status\": 503, \"percentage\": {\"numerator\": "
        + numerator + ", \"denominator\": \"" + denominator + "\"}}}"));
    int n = 20_000;
    for (int i = 0; i < n; i++) {
      Stream s = new Stream();
      FaultFilter f = new FaultFilter(settings, stats, rnd::nextLong);
      f.setCallbacks(s);
      f.decodeHeaders(request(), true);
      f.onDestroy();
    }
    double p = (double) numerator / settings.abort().percentage().configured().denominator();
    double sigma = Math.sqrt(n * p * (1 - p));
    assertThat((double) stats.abortsInjected.value()).isBetween(n * p - 5 * sigma, n * p + 5 * sigma);
  }
}
