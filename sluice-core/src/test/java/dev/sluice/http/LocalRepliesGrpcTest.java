package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.Test;

/** The gRPC shape of local replies (Envoy's prepareLocalReply for gRPC requests). */
class LocalRepliesGrpcTest {
  @Test
  void recognisesGrpcContentTypes() {
    assertThat(LocalReplies.isGrpc(new DefaultHttp2Headers().set("content-type", "application/grpc"))).isTrue();
    assertThat(LocalReplies.isGrpc(new DefaultHttp2Headers().set("content-type", "application/grpc+proto"))).isTrue();
    assertThat(LocalReplies.isGrpc(new DefaultHttp2Headers().set("content-type", "application/grpc-web"))).isFalse();
    assertThat(LocalReplies.isGrpc(new DefaultHttp2Headers().set("content-type", "text/plain"))).isFalse();
    assertThat(LocalReplies.isGrpc(new DefaultHttp2Headers())).isFalse();
    assertThat(LocalReplies.isGrpc(null)).isFalse();
  }

  @Test
  void mapsHttpStatusesAsEnvoy() {
    assertThat(LocalReplies.httpToGrpcStatus(400)).isEqualTo(13);
    assertThat(LocalReplies.httpToGrpcStatus(401)).isEqualTo(16);
    assertThat(LocalReplies.httpToGrpcStatus(403)).isEqualTo(7);
    assertThat(LocalReplies.httpToGrpcStatus(404)).isEqualTo(12);
    assertThat(LocalReplies.httpToGrpcStatus(429)).isEqualTo(14);
    assertThat(LocalReplies.httpToGrpcStatus(503)).isEqualTo(14);
    assertThat(LocalReplies.httpToGrpcStatus(504)).isEqualTo(14);
    assertThat(LocalReplies.httpToGrpcStatus(408)).isEqualTo(2);
  }

  @Test
  void trailersOnlyResponseWithMappedOrGivenStatusAndEncodedMessage() {
    Http2Headers h = LocalReplies.headers(503, "no healthy upstream");
    LocalReplies.toGrpc(h, 503, "no healthy upstream", null, false);
    assertThat(h.status().toString()).isEqualTo("200");
    assertThat(h.get("content-type").toString()).isEqualTo("application/grpc");
    assertThat(h.get("grpc-status").toString()).isEqualTo("14");
    assertThat(h.get("grpc-message").toString()).isEqualTo("no healthy upstream");
    assertThat(h.contains("content-length")).isFalse();

    Http2Headers d = LocalReplies.headers(408, "downstream duration timeout");
    LocalReplies.toGrpc(d, 408, "downstream duration timeout", 4, true);
    assertThat(d.get("grpc-status").toString()).isEqualTo("4");
    assertThat(d.contains("grpc-message")).isFalse();
  }

  @Test
  void percentEncodesOutsidePrintableAsciiAndPercent() {
    assertThat(LocalReplies.percentEncode("plain text")).isEqualTo("plain text");
    assertThat(LocalReplies.percentEncode("100% done\n")).isEqualTo("100%25 done%0A");
    assertThat(LocalReplies.percentEncode("é")).isEqualTo("%C3%A9");
  }
}
