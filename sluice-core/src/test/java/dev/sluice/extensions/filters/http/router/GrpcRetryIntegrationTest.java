package dev.sluice.extensions.filters.http.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import dev.sluice.testing.GrpcMethods;
import dev.sluice.testing.ProxyYaml;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gRPC retries through the proxy with real grpc-java on both sides: a failing call is a
 * trailers-only response whose {@code grpc-status} the router reads in the response headers.
 */
class GrpcRetryIntegrationTest {
  static final MethodDescriptor<BytesValue, BytesValue> CALL =
      GrpcMethods.method("sluice.test.Flaky", "Call", MethodDescriptor.MethodType.UNARY, BytesValue.getDefaultInstance());

  /** Calls per request payload; the payload {@code CODE:N:key} fails N times with CODE, then answers. */
  static final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  static io.grpc.Server backend;
  static Server server;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    ServerServiceDefinition flaky = ServerServiceDefinition.builder("sluice.test.Flaky")
        .addMethod(CALL, ServerCalls.asyncUnaryCall((BytesValue req, io.grpc.stub.StreamObserver<BytesValue> out) -> {
          String key = req.getValue().toStringUtf8();
          int n = calls.computeIfAbsent(key, k -> new AtomicInteger()).getAndIncrement();
          String[] parts = key.split(":");
          if (n < Integer.parseInt(parts[1])) {
            out.onError(Status.fromCodeValue(Integer.parseInt(parts[0])).asRuntimeException());
          } else {
            out.onNext(BytesValue.of(ByteString.copyFromUtf8("ok after " + n)));
            out.onCompleted();
          }
        }))
        .build();
    backend = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(flaky).build().start();
    server = TestServers.start("""
        static_resources:
          listeners:
        """ + ProxyYaml.hcmListener("l", "in", """
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: /}
                        route:
                          cluster: grpc
                          retry_policy: {retry_on: "unavailable,cancelled", num_retries: 2, retry_back_off: {base_interval: 0.002s}}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  """) + """
          clusters:
          - name: grpc
            type: STATIC
            connect_timeout: 1s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
        """.formatted(backend.getPort()));
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.listenerPort("l")).usePlaintext().build();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
    if (backend != null) {
      backend.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static String call(String key) {
    return ClientCalls.blockingUnaryCall(channel, CALL, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        BytesValue.of(ByteString.copyFromUtf8(key))).getValue().toStringUtf8();
  }

  @Test
  void unavailableIsRetriedUntilItSucceeds() {
    long retries = server.stats().counter("cluster.grpc.upstream_rq_retry").value();
    assertThat(call("14:2:a")).isEqualTo("ok after 2");
    assertThat(calls.get("14:2:a")).hasValue(3);
    assertThat(server.stats().counter("cluster.grpc.upstream_rq_retry").value() - retries).isEqualTo(2);
    assertThat(call("1:1:b")).isEqualTo("ok after 1");
  }

  @Test
  void otherStatusesAndExhaustedRetriesReachTheClient() {
    assertThatThrownBy(() -> call("13:1:c"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL));
    assertThat(calls.get("13:1:c")).hasValue(1);
    assertThatThrownBy(() -> call("14:5:d"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(calls.get("14:5:d")).hasValue(3);
  }

  @Test
  void theRetryGrpcOnHeaderAddsConditions() {
    Metadata h = new Metadata();
    h.put(Metadata.Key.of("x-envoy-retry-grpc-on", Metadata.ASCII_STRING_MARSHALLER), "internal");
    io.grpc.Channel withHeader = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(h));
    String reply = ClientCalls.blockingUnaryCall(withHeader, CALL,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), BytesValue.of(ByteString.copyFromUtf8("13:1:e")))
        .getValue().toStringUtf8();
    assertThat(reply).isEqualTo("ok after 1");
  }
}
