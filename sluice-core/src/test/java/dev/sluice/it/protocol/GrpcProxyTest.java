package dev.sluice.it.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.StringValue;
import dev.sluice.server.Server;
import dev.sluice.server.TestServers;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * gRPC through the proxy: a grpc-java client on h2c (prior knowledge) or TLS (ALPN h2) downstream,
 * an HTTP/2 cluster to a grpc-java server. Every RPC kind, deadlines enforced by the client and by
 * the proxy ({@code max_stream_duration.grpc_timeout_header_max}), cancellation, 8 MiB messages,
 * error statuses with trailing metadata, metadata both ways and 200 concurrent calls on one
 * connection.
 */
class GrpcProxyTest {
  private static final MatrixPki PKI = MatrixPki.get();
  private static final int MAX_MESSAGE = 16 * 1024 * 1024;
  private static final long TIMEOUT_S = 20;

  enum Downstream {
    H2C("grpc_plain"),
    TLS_H2("grpc_tls");

    final String listener;

    Downstream(String listener) {
      this.listener = listener;
    }

    String statPrefix() {
      return "http." + listener + ".";
    }
  }

  static final MatrixGrpcService service = new MatrixGrpcService();
  static io.grpc.Server backend;
  static Server proxy;
  static final EnumMap<Downstream, ManagedChannel> channels = new EnumMap<>(Downstream.class);

  @BeforeAll
  static void start() throws Exception {
    backend = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .maxInboundMessageSize(MAX_MESSAGE)
        .addService(service.definition())
        .build()
        .start();
    proxy = TestServers.start(config(backend.getPort()));
    channels.put(Downstream.H2C, NettyChannelBuilder.forAddress("127.0.0.1", proxy.listenerPort(Downstream.H2C.listener))
        .usePlaintext().maxInboundMessageSize(MAX_MESSAGE).build());
    channels.put(Downstream.TLS_H2, NettyChannelBuilder.forAddress("127.0.0.1", proxy.listenerPort(Downstream.TLS_H2.listener))
        .sslContext(GrpcSslContexts.forClient().trustManager(PKI.caCert.toFile()).build())
        .overrideAuthority(MatrixPki.PROXY_HOST)
        .maxInboundMessageSize(MAX_MESSAGE).build());
    // Connect now, so short deadlines measure the RPC, not the connection and TLS handshake.
    for (Downstream d : Downstream.values()) {
      ClientCalls.blockingUnaryCall(call(d, MatrixGrpcService.ECHO), BytesValue.of(ByteString.copyFromUtf8("connect")));
    }
  }

  @AfterAll
  static void stop() throws InterruptedException {
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    channels.clear();
    if (proxy != null) {
      proxy.close();
    }
    if (backend != null) {
      backend.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @BeforeEach
  void resetCancellations() {
    service.cancelled = new CountDownLatch(1);
  }

  private static <Q, R> ClientCall<Q, R> call(Downstream d, io.grpc.MethodDescriptor<Q, R> method, CallOptions options) {
    return channels.get(d).newCall(method, options);
  }

  private static <Q, R> ClientCall<Q, R> call(Downstream d, io.grpc.MethodDescriptor<Q, R> method) {
    return call(d, method, CallOptions.DEFAULT.withDeadlineAfter(TIMEOUT_S, TimeUnit.SECONDS));
  }

  private static long counter(String name) {
    return proxy.stats().counter(name).value();
  }

  private static long gauge(String name) {
    return proxy.stats().gauge(name).value();
  }

  private static StringValue s(String v) {
    return StringValue.of(v);
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void unary(Downstream d) {
    BytesValue req = BytesValue.of(ByteString.copyFromUtf8("hello " + d));
    assertThat(ClientCalls.blockingUnaryCall(call(d, MatrixGrpcService.ECHO), req)).isEqualTo(req);
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void serverStreamsOneHundredMessages(Downstream d) {
    List<String> got = new ArrayList<>();
    Iterator<StringValue> it = ClientCalls.blockingServerStreamingCall(call(d, MatrixGrpcService.COUNT), s("100"));
    it.forEachRemaining(v -> got.add(v.getValue()));
    assertThat(got).hasSize(100).startsWith("msg-0", "msg-1").endsWith("msg-99");
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void clientStreams(Downstream d) throws Exception {
    CompletableFuture<String> result = new CompletableFuture<>();
    StreamObserver<StringValue> out = ClientCalls.asyncClientStreamingCall(call(d, MatrixGrpcService.JOIN), new StreamObserver<>() {
      @Override
      public void onNext(StringValue v) {
        result.complete(v.getValue());
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      out.onNext(s("part" + i));
      sent.add("part" + i);
    }
    out.onCompleted();
    assertThat(result.get(TIMEOUT_S, TimeUnit.SECONDS)).isEqualTo(String.join(",", sent));
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void bidiPingPongOneHundredRounds(Downstream d) throws Exception {
    BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    StreamObserver<StringValue> out = ClientCalls.asyncBidiStreamingCall(call(d, MatrixGrpcService.PING_PONG), new StreamObserver<>() {
      @Override
      public void onNext(StringValue v) {
        replies.add(v.getValue());
      }

      @Override
      public void onError(Throwable t) {
        replies.add(t);
      }

      @Override
      public void onCompleted() {
        replies.add("completed");
      }
    });
    // Strict ping-pong: each ping waits for its pong, so every round crosses the proxy both ways.
    for (int i = 0; i < 100; i++) {
      out.onNext(s("ping " + i));
      assertThat(replies.poll(TIMEOUT_S, TimeUnit.SECONDS)).isEqualTo("pong ping " + i);
    }
    out.onCompleted();
    assertThat(replies.poll(TIMEOUT_S, TimeUnit.SECONDS)).isEqualTo("completed");
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void clientDeadlineShorterThanASlowServer(Downstream d) throws Exception {
    long rxReset = counter(d.statPrefix() + "downstream_rq_rx_reset");
    long txReset = counter("cluster.grpc_up.upstream_rq_tx_reset");
    // Long enough that the request has reached the server before the deadline even on a loaded
    // machine (otherwise the client cancels a request still pending in the proxy: no upstream reset).
    ClientCall<StringValue, StringValue> c = call(d, MatrixGrpcService.HANG, CallOptions.DEFAULT.withDeadlineAfter(1500, TimeUnit.MILLISECONDS));
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(c, s("wait")))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    // The client's RST_STREAM crosses the proxy: the server sees the call cancelled.
    try {
      await().atMost(TIMEOUT_S, TimeUnit.SECONDS).untilAsserted(() -> {
        assertThat(counter(d.statPrefix() + "downstream_rq_rx_reset")).as("rx").isEqualTo(rxReset + 1);
        assertThat(counter("cluster.grpc_up.upstream_rq_tx_reset")).as("tx").isEqualTo(txReset + 1);
      });
    } catch (AssertionError | RuntimeException e) {
      StringBuilder dump = new StringBuilder();
      for (var k : proxy.stats().counters()) {
        if (k.value() > 0 && (k.name().startsWith(d.statPrefix()) || k.name().startsWith("cluster.grpc_up"))) {
          dump.append(k.name()).append('=').append(k.value()).append(' ');
        }
      }
      System.err.println("counters when the reset assertion failed (" + d + "): " + dump);
      throw e;
    }
    assertThat(service.cancelled.await(TIMEOUT_S, TimeUnit.SECONDS)).isTrue();
    awaitNoActiveStreams(d);
  }

  /**
   * The route sets {@code grpc_timeout_header_max} and an offset, so the proxy's deadline
   * (grpc-timeout less the offset) fires long before the client's: Envoy answers with a
   * trailers-only gRPC response, grpc-status 4 DEADLINE_EXCEEDED and grpc-message
   * "downstream duration timeout".
   */
  @ParameterizedTest
  @EnumSource(Downstream.class)
  void proxyHonoursGrpcTimeoutAndAnswersItself(Downstream d) throws Exception {
    long before = counter(d.statPrefix() + "downstream_rq_max_duration_reached");
    ClientCall<StringValue, StringValue> c = call(d, MatrixGrpcService.HANG_PROXY_DEADLINE, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
    long start = System.nanoTime();
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(c, s("wait")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
          assertThat(e.getStatus().getDescription()).isEqualTo("downstream duration timeout");
        });
    // 10 s less the 9.7 s offset: well before the client's own deadline.
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5000);
    assertThat(counter(d.statPrefix() + "downstream_rq_max_duration_reached")).isEqualTo(before + 1);
    assertThat(service.cancelled.await(TIMEOUT_S, TimeUnit.SECONDS)).isTrue();
    awaitNoActiveStreams(d);
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void clientCancelsAServerStream(Downstream d) throws Exception {
    long rxReset = counter(d.statPrefix() + "downstream_rq_rx_reset");
    long txReset = counter("cluster.grpc_up.upstream_rq_tx_reset");
    CountDownLatch first = new CountDownLatch(1);
    AtomicReference<@Nullable Throwable> error = new AtomicReference<>();
    CountDownLatch closed = new CountDownLatch(1);
    AtomicReference<ClientCallStreamObserver<StringValue>> requestStream = new AtomicReference<>();
    ClientCalls.asyncServerStreamingCall(call(d, MatrixGrpcService.STREAM_UNTIL_CANCELLED), s("go"),
        new ClientResponseObserver<StringValue, StringValue>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<StringValue> r) {
            requestStream.set(r);
          }

          @Override
          public void onNext(StringValue v) {
            first.countDown();
          }

          @Override
          public void onError(Throwable t) {
            error.set(t);
            closed.countDown();
          }

          @Override
          public void onCompleted() {
            closed.countDown();
          }
        });
    assertThat(first.await(TIMEOUT_S, TimeUnit.SECONDS)).isTrue();
    requestStream.get().cancel("test cancels", null);
    assertThat(closed.await(TIMEOUT_S, TimeUnit.SECONDS)).isTrue();
    assertThat(Status.fromThrowable(error.get()).getCode()).isEqualTo(Status.Code.CANCELLED);
    assertThat(service.cancelled.await(TIMEOUT_S, TimeUnit.SECONDS)).isTrue();
    await().atMost(TIMEOUT_S, TimeUnit.SECONDS).untilAsserted(() -> {
      assertThat(counter(d.statPrefix() + "downstream_rq_rx_reset")).isEqualTo(rxReset + 1);
      assertThat(counter("cluster.grpc_up.upstream_rq_tx_reset")).isEqualTo(txReset + 1);
    });
    awaitNoActiveStreams(d);
  }

  /** Nothing left behind: no active downstream or upstream request. */
  private static void awaitNoActiveStreams(Downstream d) {
    await().atMost(TIMEOUT_S, TimeUnit.SECONDS).untilAsserted(() -> {
      assertThat(gauge(d.statPrefix() + "downstream_rq_active")).isZero();
      assertThat(gauge("cluster.grpc_up.upstream_rq_active")).isZero();
    });
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void eightMebibyteMessagesBothWays(Downstream d) {
    byte[] big = MatrixBackend.pattern(8 * 1024 * 1024);
    BytesValue req = BytesValue.of(ByteString.copyFrom(big));
    BytesValue resp = ClientCalls.blockingUnaryCall(call(d, MatrixGrpcService.ECHO), req);
    assertThat(resp.getValue().size()).isEqualTo(big.length);
    assertThat(resp.getValue().toByteArray()).isEqualTo(big);
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void errorStatusMessageAndTrailersReachTheClientExactly(Downstream d) {
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(call(d, MatrixGrpcService.FAIL), s("w-42")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).isEqualTo(MatrixGrpcService.NOT_FOUND_MESSAGE);
          assertThat(e.getTrailers().get(MatrixGrpcService.ERROR_DETAIL_KEY)).isEqualTo("widget=w-42");
          assertThat(e.getTrailers().get(MatrixGrpcService.SERVER_TRAILER_KEY)).isEqualTo("done");
        });
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void metadataTravelsBothWays(Downstream d) throws Exception {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    byte[] bin = {0, 1, 2, (byte) 0xff, 10, 13};
    io.grpc.Channel intercepted = ClientInterceptors.intercept(channels.get(d), new io.grpc.ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method, CallOptions options, io.grpc.Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<Q, R>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata h) {
            h.put(MatrixGrpcService.CLIENT_META_KEY, "from-client");
            h.put(MatrixGrpcService.CLIENT_BIN_KEY, bin);
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<R>(listener) {
              @Override
              public void onHeaders(Metadata h) {
                headers.set(h);
                super.onHeaders(h);
              }

              @Override
              public void onClose(Status status, Metadata t) {
                trailers.set(t);
                super.onClose(status, t);
              }
            }, h);
          }
        };
      }
    });
    BytesValue req = BytesValue.of(ByteString.copyFromUtf8("meta"));
    assertThat(ClientCalls.blockingUnaryCall(intercepted, MatrixGrpcService.ECHO, CallOptions.DEFAULT.withDeadlineAfter(TIMEOUT_S, TimeUnit.SECONDS), req))
        .isEqualTo(req);
    assertThat(headers.get().get(MatrixGrpcService.SERVER_META_KEY)).isEqualTo("echo:from-client");
    assertThat(headers.get().get(MatrixGrpcService.SERVER_BIN_KEY)).isEqualTo(bin);
    assertThat(headers.get().get(Metadata.Key.of("server", Metadata.ASCII_STRING_MARSHALLER))).isEqualTo("envoy");
    assertThat(trailers.get().get(MatrixGrpcService.SERVER_TRAILER_KEY)).isEqualTo("done");
  }

  @ParameterizedTest
  @EnumSource(Downstream.class)
  void twoHundredConcurrentUnaryCallsOnOneConnection(Downstream d) throws Exception {
    long connections = counter(d.statPrefix() + "downstream_cx_total");
    List<ListenableFuture<BytesValue>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(ClientCalls.futureUnaryCall(call(d, MatrixGrpcService.ECHO), BytesValue.of(ByteString.copyFromUtf8("call " + i))));
    }
    for (int i = 0; i < 200; i++) {
      assertThat(calls.get(i).get(TIMEOUT_S, TimeUnit.SECONDS).getValue().toStringUtf8()).isEqualTo("call " + i);
    }
    assertThat(counter(d.statPrefix() + "downstream_cx_total")).isEqualTo(connections);
  }

  // ------------------------------------------------------------------ proxy configuration

  static String config(int grpcPort) {
    return """
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          clusters:
          - name: grpc_up
            type: STATIC
            connect_timeout: 2s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: grpc_up
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
          listeners:
          - name: grpc_plain
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - filters:
              - %s
          - name: grpc_tls
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  common_tls_context:
                    alpn_protocols: [h2]
                    tls_certificates:
                    - certificate_chain: {filename: %s}
                      private_key: {filename: %s}
              filters:
              - %s
        """.formatted(grpcPort, hcm("grpc_plain"), PKI.proxyCert, PKI.proxyKey, hcm("grpc_tls"));
  }

  private static String hcm(String statPrefix) {
    return """
        name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %s
                  codec_type: AUTO
                  route_config:
                    name: local
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {path: "/%s/HangProxyDeadline"}
                        route:
                          cluster: grpc_up
                          max_stream_duration: {grpc_timeout_header_max: 0s, grpc_timeout_header_offset: 9.7s}
                        # The proxy forwards its own deadline as grpc-timeout; the backend would then
                        # expire at the same instant and race the proxy's reply. Without the header
                        # the proxy's timer is the only clock, as the test intends.
                        request_headers_to_remove: [grpc-timeout]
                      - match: {path: "/%s/Hang"}
                        route: {cluster: grpc_up}
                        # Only the client's deadline may end this call (its RST_STREAM crossing the
                        # proxy is what the test checks): a backend given the same grpc-timeout
                        # would expire at the same instant and answer first on a loaded machine.
                        request_headers_to_remove: [grpc-timeout]
                      - match: {prefix: "/"}
                        route: {cluster: grpc_up}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
        """.formatted(statPrefix, MatrixGrpcService.SERVICE, MatrixGrpcService.SERVICE);
  }
}
