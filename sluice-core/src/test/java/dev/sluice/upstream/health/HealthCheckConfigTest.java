package dev.sluice.upstream.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.HealthCheck;
import io.envoyproxy.envoy.type.v3.Int64Range;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthCheckConfigTest {
  private static HealthCheck.Builder base() {
    return HealthCheck.newBuilder()
        .setTimeout(Durations.fromSeconds(1))
        .setInterval(Durations.fromSeconds(5))
        .setUnhealthyThreshold(UInt32Value.of(3))
        .setHealthyThreshold(UInt32Value.of(2))
        .setHttpHealthCheck(HealthCheck.HttpHealthCheck.newBuilder().setPath("/healthz"));
  }

  @Test
  void defaultsAreEnvoys() {
    HealthCheckConfig c = HealthCheckConfig.parse(List.of(base().build()));
    assertThat(c.noTrafficInterval()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.noTrafficHealthyInterval()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.unhealthyInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.unhealthyEdgeInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.healthyEdgeInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.reuseConnection()).isTrue();
    assertThat(c.http().method()).isEqualTo("GET");
    // 200 only unless expected_statuses says otherwise.
    assertThat(c.http().expects(200)).isTrue();
    assertThat(c.http().expects(204)).isFalse();
    assertThat(HealthCheckConfig.parse(List.of())).isNull();
  }

  @Test
  void unhealthyIntervalIsTheDefaultOfItsEdge() {
    HealthCheckConfig c = HealthCheckConfig.parse(List.of(base()
        .setUnhealthyInterval(Durations.fromSeconds(9)).build()));
    assertThat(c.unhealthyEdgeInterval()).isEqualTo(Duration.ofSeconds(9));
  }

  @Test
  void invalidFieldsAreNamed() {
    assertThatThrownBy(() -> HealthCheckConfig.parse(List.of(base().clearTimeout().build())))
        .isInstanceOf(ConfigException.class).hasMessageContaining("health_checks[0].timeout");
    assertThatThrownBy(() -> HealthCheckConfig.parse(List.of(base().clearHealthyThreshold().build())))
        .hasMessageContaining("health_checks[0].healthy_threshold");
    assertThatThrownBy(() -> HealthCheckConfig.parse(List.of(base().setHttpHealthCheck(
        HealthCheck.HttpHealthCheck.newBuilder().setPath("/h")
            .addExpectedStatuses(Int64Range.newBuilder().setStart(200).setEnd(700))).build())))
        .hasMessageContaining("health_checks[0].http_health_check.expected_statuses[0]");
    assertThatThrownBy(() -> HealthCheckConfig.parse(List.of(base().setTcpHealthCheck(
        HealthCheck.TcpHealthCheck.newBuilder().setSend(HealthCheck.Payload.newBuilder().setText("zz"))).build())))
        .hasMessageContaining("health_checks[0].tcp_health_check.send.text");
    assertThatThrownBy(() -> HealthCheckConfig.parse(List.of(base().build(), base().build())))
        .hasMessageContaining("multiple health checks");
  }

  @Test
  void tcpBlocksMustAppearInOrder() {
    byte[] reply = "xxPONGyyOK".getBytes(StandardCharsets.US_ASCII);
    List<byte[]> blocks = List.of("PONG".getBytes(StandardCharsets.US_ASCII), "OK".getBytes(StandardCharsets.US_ASCII));
    assertThat(TcpProbe.matches(reply, reply.length, blocks)).isTrue();
    assertThat(TcpProbe.matches(reply, reply.length, blocks.reversed())).isFalse();
    assertThat(TcpProbe.matches(reply, 6, blocks)).isFalse();
  }

  @Test
  void grpcMessagesRoundTripWithGrpcJavasOwnClasses() throws Exception {
    byte[] request = GrpcHealthMessages.request("svc");
    assertThat(io.grpc.health.v1.HealthCheckRequest.parseFrom(java.util.Arrays.copyOfRange(request, 5, request.length))
        .getService()).isEqualTo("svc");
    assertThat(GrpcHealthMessages.request("")).containsExactly(0, 0, 0, 0, 0);
    byte[] msg = io.grpc.health.v1.HealthCheckResponse.newBuilder()
        .setStatus(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING).build().toByteArray();
    byte[] framed = new byte[5 + msg.length];
    framed[4] = (byte) msg.length;
    System.arraycopy(msg, 0, framed, 5, msg.length);
    assertThat(GrpcHealthMessages.servingStatus(framed)).isEqualTo(GrpcHealthMessages.SERVING);
    framed[0] = 1; // compressed: not understood
    assertThat(GrpcHealthMessages.servingStatus(framed)).isEqualTo(-1);
  }
}
