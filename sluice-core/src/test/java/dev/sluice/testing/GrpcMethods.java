package dev.sluice.testing;

import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;

/**
 * gRPC methods for test services without code generation: request and response are one protobuf
 * message type (a well-known type such as {@code BytesValue}), marshalled by grpc-protobuf.
 */
public final class GrpcMethods {
  private GrpcMethods() {}

  /** {@code service/name} of {@code type}, taking and returning {@code prototype}'s message type. */
  public static <T extends Message> MethodDescriptor<T, T> method(
      String service, String name, MethodDescriptor.MethodType type, T prototype) {
    return MethodDescriptor.<T, T>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(service, name))
        .setRequestMarshaller(ProtoUtils.marshaller(prototype))
        .setResponseMarshaller(ProtoUtils.marshaller(prototype))
        .build();
  }
}
