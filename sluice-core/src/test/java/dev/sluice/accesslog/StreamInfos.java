package dev.sluice.accesslog;

import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Instant;

/** A StreamInfo with every field set, as the HTTP connection manager fills it. */
final class StreamInfos {
  static final long START_MILLIS = Instant.parse("2016-04-15T20:17:00.310Z").toEpochMilli();
  static final long START_NANOS = 1_000_000_000L;

  private StreamInfos() {}

  static StreamInfo filled() {
    StreamInfo i = new StreamInfo(START_MILLIS, START_NANOS);
    i.lastDownstreamRxNanos = START_NANOS + 2_000_000;
    i.lastUpstreamTxNanos = START_NANOS + 3_000_000;
    i.firstUpstreamRxNanos = START_NANOS + 100_000_000;
    i.lastDownstreamTxNanos = START_NANOS + 226_500_000;
    i.endNanos = START_NANOS + 226_900_000;
    i.requestHeaders =
        new DefaultHttp2Headers()
            .method("POST")
            .path("/api/v1/locations?a=1&b=x%20y")
            .authority("locations")
            .scheme("http")
            .add("x-forwarded-for", "10.0.35.28")
            .add("user-agent", "nsq2http")
            .add("x-request-id", "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2");
    i.responseHeaders = new DefaultHttp2Headers().status("204").add("x-envoy-upstream-service-time", "100");
    i.responseTrailers = new DefaultHttp2Headers().add("grpc-message", "fine");
    i.responseCode = 204;
    i.responseCodeDetails = "via_upstream";
    i.bytesReceived = 154;
    i.bytesSent = 0;
    i.upstreamBytesSent = 300;
    i.upstreamBytesReceived = 120;
    i.protocol = "HTTP/2";
    i.requestId = "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2";
    i.routeName = "default";
    i.upstreamCluster = "outbound|9080||reviews.default.svc.cluster.local";
    i.upstreamHost = "10.0.2.1:80";
    i.upstreamLocalAddress = address("10.0.0.5", 41000);
    i.upstreamTransportFailureReason = null;
    i.connectionTerminationDetails = null;
    i.downstreamRemoteAddress = address("10.0.35.28", 52000);
    i.downstreamDirectRemoteAddress = address("10.0.0.9", 52001);
    i.downstreamLocalAddress = address("10.0.0.5", 9080);
    i.requestedServerName = "outbound_.9080_._.reviews.default.svc.cluster.local";
    i.connectionId = 42;
    i.attemptCount = 1;
    i.setFlag(ResponseFlag.NO_HEALTHY_UPSTREAM);
    i.setFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED);
    return i;
  }

  static InetSocketAddress address(String ip, int port) {
    try {
      return new InetSocketAddress(InetAddress.getByName(ip), port);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }
}
