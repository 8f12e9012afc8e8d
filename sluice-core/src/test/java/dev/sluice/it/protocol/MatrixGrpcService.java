package dev.sluice.it.protocol;

import com.google.protobuf.BytesValue;
import com.google.protobuf.StringValue;
import dev.sluice.testing.GrpcMethods;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gRPC service built from {@link MethodDescriptor}s with protobuf well-known types as messages
 * (no code generation), served by grpc-java behind the proxy. Metadata: a request header
 * {@value #CLIENT_META} comes back as response header {@value #SERVER_META} ({@code echo:} + value),
 * binary {@code x-client-bin-bin} as {@code x-server-bin-bin}; every call ends with trailer
 * {@value #SERVER_TRAILER}{@code : done}.
 */
final class MatrixGrpcService {
  static final String SERVICE = "sluice.test.Matrix";
  static final String CLIENT_META = "x-client-meta";
  static final String SERVER_META = "x-server-meta";
  static final String SERVER_TRAILER = "x-server-trailer";
  static final Metadata.Key<String> CLIENT_META_KEY = Metadata.Key.of(CLIENT_META, Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> SERVER_META_KEY = Metadata.Key.of(SERVER_META, Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> SERVER_TRAILER_KEY = Metadata.Key.of(SERVER_TRAILER, Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<byte[]> CLIENT_BIN_KEY = Metadata.Key.of("x-client-bin-bin", Metadata.BINARY_BYTE_MARSHALLER);
  static final Metadata.Key<byte[]> SERVER_BIN_KEY = Metadata.Key.of("x-server-bin-bin", Metadata.BINARY_BYTE_MARSHALLER);
  static final Metadata.Key<String> ERROR_DETAIL_KEY = Metadata.Key.of("x-error-detail", Metadata.ASCII_STRING_MARSHALLER);
  static final String NOT_FOUND_MESSAGE = "no widget named 'w-42' (100% gone)";

  static final MethodDescriptor<BytesValue, BytesValue> ECHO = method("Echo", MethodDescriptor.MethodType.UNARY, BytesValue.getDefaultInstance());
  /** Request: the number of messages to stream back, as text. */
  static final MethodDescriptor<StringValue, StringValue> COUNT = method("Count", MethodDescriptor.MethodType.SERVER_STREAMING, StringValue.getDefaultInstance());
  /** Answers once the client half-closes: the messages joined with ",". */
  static final MethodDescriptor<StringValue, StringValue> JOIN = method("Join", MethodDescriptor.MethodType.CLIENT_STREAMING, StringValue.getDefaultInstance());
  /** Answers each message with "pong " + message. */
  static final MethodDescriptor<StringValue, StringValue> PING_PONG = method("PingPong", MethodDescriptor.MethodType.BIDI_STREAMING, StringValue.getDefaultInstance());
  /** Never answers; counts the cancellations it sees. */
  static final MethodDescriptor<StringValue, StringValue> HANG = method("Hang", MethodDescriptor.MethodType.UNARY, StringValue.getDefaultInstance());
  /** The same handler as {@link #HANG}, on a route where the proxy enforces grpc-timeout. */
  static final MethodDescriptor<StringValue, StringValue> HANG_PROXY_DEADLINE =
      method("HangProxyDeadline", MethodDescriptor.MethodType.UNARY, StringValue.getDefaultInstance());
  /** Sends one message, then waits for the client to cancel. */
  static final MethodDescriptor<StringValue, StringValue> STREAM_UNTIL_CANCELLED =
      method("StreamUntilCancelled", MethodDescriptor.MethodType.SERVER_STREAMING, StringValue.getDefaultInstance());
  /** Fails with NOT_FOUND, {@link #NOT_FOUND_MESSAGE} and trailer {@code x-error-detail: widget=w-42}. */
  static final MethodDescriptor<StringValue, StringValue> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY, StringValue.getDefaultInstance());

  final AtomicInteger cancellations = new AtomicInteger();
  volatile CountDownLatch cancelled = new CountDownLatch(1);

  private static <T extends com.google.protobuf.Message> MethodDescriptor<T, T> method(String name, MethodDescriptor.MethodType type, T prototype) {
    return GrpcMethods.method(SERVICE, name, type, prototype);
  }

  private static StringValue s(String v) {
    return StringValue.of(v);
  }

  private void onCancel(StreamObserver<?> observer) {
    ((ServerCallStreamObserver<?>) observer).setOnCancelHandler(() -> {
      cancellations.incrementAndGet();
      cancelled.countDown();
    });
  }

  ServerServiceDefinition definition() {
    ServerServiceDefinition service = ServerServiceDefinition.builder(SERVICE)
        .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, out) -> {
          out.onNext(req);
          out.onCompleted();
        }))
        .addMethod(COUNT, ServerCalls.asyncServerStreamingCall((req, out) -> {
          int n = Integer.parseInt(req.getValue());
          for (int i = 0; i < n; i++) {
            out.onNext(s("msg-" + i));
          }
          out.onCompleted();
        }))
        .addMethod(JOIN, ServerCalls.asyncClientStreamingCall(out -> new StreamObserver<StringValue>() {
          private final StringBuilder joined = new StringBuilder();

          @Override
          public void onNext(StringValue v) {
            joined.append(joined.isEmpty() ? "" : ",").append(v.getValue());
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            out.onNext(s(joined.toString()));
            out.onCompleted();
          }
        }))
        .addMethod(PING_PONG, ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<StringValue>() {
          @Override
          public void onNext(StringValue v) {
            out.onNext(s("pong " + v.getValue()));
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            out.onCompleted();
          }
        }))
        .addMethod(HANG, ServerCalls.asyncUnaryCall((req, out) -> onCancel(out)))
        .addMethod(HANG_PROXY_DEADLINE, ServerCalls.asyncUnaryCall((req, out) -> onCancel(out)))
        .addMethod(STREAM_UNTIL_CANCELLED, ServerCalls.asyncServerStreamingCall((req, out) -> {
          onCancel(out);
          out.onNext(s("first"));
        }))
        .addMethod(FAIL, ServerCalls.asyncUnaryCall((req, out) -> {
          Metadata trailers = new Metadata();
          trailers.put(ERROR_DETAIL_KEY, "widget=w-42");
          out.onError(Status.NOT_FOUND.withDescription(NOT_FOUND_MESSAGE).asRuntimeException(trailers));
        }))
        .build();
    return ServerInterceptors.intercept(service, new MetadataEcho());
  }

  /** Echoes the client's metadata in the response headers and adds a trailer to every call. */
  private static final class MetadataEcho implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      String meta = headers.get(CLIENT_META_KEY);
      byte[] bin = headers.get(CLIENT_BIN_KEY);
      return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<Q, R>(call) {
        @Override
        public void sendHeaders(Metadata responseHeaders) {
          if (meta != null) {
            responseHeaders.put(SERVER_META_KEY, "echo:" + meta);
          }
          if (bin != null) {
            responseHeaders.put(SERVER_BIN_KEY, bin);
          }
          super.sendHeaders(responseHeaders);
        }

        @Override
        public void close(Status status, Metadata trailers) {
          trailers.put(SERVER_TRAILER_KEY, "done");
          super.close(status, trailers);
        }
      }, headers);
    }
  }
}
