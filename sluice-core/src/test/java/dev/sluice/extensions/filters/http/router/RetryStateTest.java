package dev.sluice.extensions.filters.http.router;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.upstream.ClusterInfo;
import dev.sluice.listener.fixtures.TestClusterManager;
import dev.sluice.router.RetryPolicy;
import dev.sluice.stats.StatsStore;
import dev.sluice.upstream.pool.ResetReason;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Envoy's retry decisions, condition by condition, without sockets. */
class RetryStateTest {
  private final ClusterInfo cluster =
      new TestClusterManager(new StatsStore()).add("c", Duration.ofSeconds(1), 10).info;

  private static RetryPolicy policy(String json) throws Exception {
    var b = io.envoyproxy.envoy.config.route.v3.RetryPolicy.newBuilder();
    JsonFormat.parser().merge(json, b);
    return RetryPolicy.compile(b.build(), "retry_policy");
  }

  private static Http2Headers request() {
    return new DefaultHttp2Headers().method("GET").path("/").authority("h").scheme("http");
  }

  private RetryState state(String json, Http2Headers request) throws Exception {
    return RetryState.create(policy(json), request, cluster, cluster.resourceManager(), new SplittableRandom(1));
  }

  private static Http2Headers response(int status) {
    return new DefaultHttp2Headers().status(Integer.toString(status));
  }

  @Test
  void noPolicyAndNoHeaderMeansNoStateAndTheHeadersAreConsumedAnyway() {
    Http2Headers r = request().add("x-envoy-max-retries", "3").add("x-envoy-retriable-status-codes", "500")
        .add("x-envoy-hedge-on-per-try-timeout", "true");
    assertThat(RetryState.create(null, r, cluster, cluster.resourceManager(), new SplittableRandom(1))).isNull();
    assertThat(r.contains("x-envoy-max-retries")).isFalse();
    assertThat(r.contains("x-envoy-retriable-status-codes")).isFalse();
    assertThat(r.contains("x-envoy-hedge-on-per-try-timeout")).isFalse();
  }

  @Test
  void gatewayErrorIs502To504AndEveryResetButOverflow() throws Exception {
    RetryState s = state("{\"retry_on\":\"gateway-error\"}", request());
    assertThat(s.wouldRetryFromHeaders(response(502), 502)).isTrue();
    assertThat(s.wouldRetryFromHeaders(response(504), 504)).isTrue();
    assertThat(s.wouldRetryFromHeaders(response(500), 500)).isFalse();
    assertThat(s.wouldRetryFromReset(ResetReason.REMOTE_RESET, true)).isTrue();
    assertThat(s.wouldRetryFromReset(ResetReason.LOCAL_RESET, true)).isTrue();
    assertThat(s.wouldRetryFromReset(ResetReason.OVERFLOW, false)).isFalse();
  }

  @Test
  void connectFailureRefusedStreamAndResetBeforeRequestAreNarrow() throws Exception {
    RetryState connect = state("{\"retry_on\":\"connect-failure\"}", request());
    assertThat(connect.wouldRetryFromReset(ResetReason.CONNECTION_FAILURE, false)).isTrue();
    assertThat(connect.wouldRetryFromReset(ResetReason.CONNECTION_TIMEOUT, false)).isTrue();
    assertThat(connect.wouldRetryFromReset(ResetReason.CONNECTION_TERMINATION, true)).isFalse();
    assertThat(connect.wouldRetryFromReset(ResetReason.LOCAL_RESET, true)).as("a per-try timeout").isFalse();
    assertThat(connect.wouldRetryFromHeaders(response(503), 503)).isFalse();
    RetryState refused = state("{\"retry_on\":\"refused-stream\"}", request());
    assertThat(refused.wouldRetryFromReset(ResetReason.REMOTE_REFUSED_STREAM_RESET, true)).isTrue();
    assertThat(refused.wouldRetryFromReset(ResetReason.REMOTE_RESET, true)).isFalse();
    RetryState before = state("{\"retry_on\":\"reset-before-request\"}", request());
    assertThat(before.wouldRetryFromReset(ResetReason.CONNECTION_TERMINATION, false)).isTrue();
    assertThat(before.wouldRetryFromReset(ResetReason.CONNECTION_TERMINATION, true)).isFalse();
    RetryState h3 = state("{\"retry_on\":\"http3-post-connect-failure\"}", request());
    assertThat(h3.wouldRetryFromReset(ResetReason.CONNECTION_FAILURE, true)).isFalse();
  }

  @Test
  void grpcConditionsReadGrpcStatusFromTheHeaders() throws Exception {
    RetryState s = state("{\"retry_on\":\"deadline-exceeded,internal,resource-exhausted\"}", request());
    assertThat(s.wouldRetryFromHeaders(response(200).add("grpc-status", "4"), 200)).isTrue();
    assertThat(s.wouldRetryFromHeaders(response(200).add("grpc-status", "13"), 200)).isTrue();
    assertThat(s.wouldRetryFromHeaders(response(200).add("grpc-status", "8"), 200)).isTrue();
    assertThat(s.wouldRetryFromHeaders(response(200).add("grpc-status", "14"), 200)).isFalse();
    assertThat(s.wouldRetryFromHeaders(response(200), 200)).isFalse();
  }

  @Test
  void aRateLimitedResponseIsNeverRetried() throws Exception {
    RetryState s = state("{\"retry_on\":\"5xx\"}", request());
    assertThat(s.wouldRetryFromHeaders(response(503).add("x-envoy-ratelimited", "true"), 503)).isFalse();
  }

  @Test
  void retriableRequestHeadersGateTheWholePolicy() throws Exception {
    String json = "{\"retry_on\":\"5xx\",\"retriable_request_headers\":[{\"name\":\":method\",\"string_match\":{\"exact\":\"GET\"}}]}";
    assertThat(state(json, request())).isNotNull();
    assertThat(state(json, request().method("POST"))).isNull();
  }

  @Test
  void headersAddConditionsAndOverrideTheRetryCount() throws Exception {
    Http2Headers r = request().add("x-envoy-retry-on", "retriable-status-codes,retriable-headers")
        .add("x-envoy-retriable-status-codes", "418, 420").add("x-envoy-retriable-header-names", "X-Again")
        .add("x-envoy-max-retries", "0");
    RetryState s = state("{\"retry_on\":\"5xx\",\"num_retries\":3}", r);
    assertThat(s.wouldRetryFromHeaders(response(420), 420)).isTrue();
    assertThat(s.wouldRetryFromHeaders(response(200).add("x-again", "1"), 200)).isTrue();
    assertThat(s.wouldRetryFromHeaders(response(503), 503)).isTrue();
    assertThat(s.shouldRetry(true)).isEqualTo(RetryState.Status.NO_RETRY_LIMIT_EXCEEDED);
    assertThat(cluster.stats().upstreamRqRetryLimitExceeded.value()).isEqualTo(1);
  }

  @Test
  void aRetryHoldsTheCircuitBreakerSlotUntilItsOutcomeAndCountsSuccess() throws Exception {
    RetryState s = state("{\"retry_on\":\"5xx\",\"num_retries\":2}", request());
    var retries = cluster.resourceManager().retries();
    assertThat(s.shouldRetry(true)).isEqualTo(RetryState.Status.YES);
    assertThat(retries.count()).isEqualTo(1);
    assertThat(s.shouldRetry(true)).isEqualTo(RetryState.Status.YES);
    assertThat(retries.count()).isEqualTo(1);
    assertThat(s.shouldRetry(false)).isEqualTo(RetryState.Status.NO);
    assertThat(retries.count()).isZero();
    assertThat(cluster.stats().upstreamRqRetry.value()).isEqualTo(2);
    assertThat(cluster.stats().upstreamRqRetrySuccess.value()).isEqualTo(1);
  }

  @Test
  void previousHostsRejectsAttemptedHosts() throws Exception {
    var tc = new TestClusterManager(new StatsStore()).add("p", Duration.ofSeconds(1), 10,
        new java.net.InetSocketAddress("127.0.0.1", 1), new java.net.InetSocketAddress("127.0.0.1", 2));
    RetryState s = RetryState.create(policy("""
        {"retry_on":"5xx","retry_host_predicate":[{"name":"envoy.retry_host_predicates.previous_hosts"}],
         "host_selection_retry_max_attempts":"3"}
        """), request(), tc.info, tc.info.resourceManager(), new SplittableRandom(1));
    s.onHostAttempted(tc.hosts.get(0));
    assertThat(s.shouldSelectAnotherHost(tc.hosts.get(0))).isTrue();
    assertThat(s.shouldSelectAnotherHost(tc.hosts.get(1))).isFalse();
    assertThat(s.hostSelectionMaxAttempts()).isEqualTo(3);
  }

  @Test
  void aRetryTakesTheMaxRetriesBreakerOfTheRoutesPriority() throws Exception {
    var b = io.envoyproxy.envoy.config.cluster.v3.Cluster.newBuilder();
    JsonFormat.parser().merge("""
        {"name":"prio","circuit_breakers":{"thresholds":[
          {"priority":"DEFAULT","max_retries":0},{"priority":"HIGH","max_retries":1}]}}
        """, b);
    ClusterInfo info = new dev.sluice.upstream.ClusterInfoImpl(b.build(), new StatsStore());
    var high = info.resourceManager(io.envoyproxy.envoy.config.core.v3.RoutingPriority.HIGH);
    RetryState onHigh = RetryState.create(policy("{\"retry_on\":\"5xx\"}"), request(), info, high, new SplittableRandom(1));
    assertThat(onHigh.shouldRetry(true)).isEqualTo(RetryState.Status.YES);
    assertThat(high.retries().count()).isEqualTo(1);
    assertThat(info.resourceManager().retries().count()).isZero();
    RetryState onDefault = RetryState.create(policy("{\"retry_on\":\"5xx\"}"), request(), info,
        info.resourceManager(), new SplittableRandom(1));
    assertThat(onDefault.shouldRetry(true)).isEqualTo(RetryState.Status.NO_OVERFLOW);
    onHigh.release();
    assertThat(high.retries().count()).isZero();
  }
}
