package dev.sluice.upstream.health;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The two tiny messages of {@code grpc.health.v1.Health/Check}, encoded by hand (grpc-java's
 * generated classes are not on the runtime class path): {@code HealthCheckRequest {string service
 * = 1}} and {@code HealthCheckResponse {ServingStatus status = 1}}, each in a gRPC length-prefixed
 * frame.
 */
final class GrpcHealthMessages {
  /** {@code ServingStatus.SERVING}. */
  static final int SERVING = 1;
  /** Field 1, wire type varint. */
  private static final int STATUS_TAG = (1 << 3) | WireFormat.WIRETYPE_VARINT;

  private GrpcHealthMessages() {}

  /** The framed request: flag 0 (not compressed), 4-byte length, the message. */
  static byte[] request(String service) {
    byte[] name = service.getBytes(StandardCharsets.UTF_8);
    int size = name.length == 0 ? 0 : CodedOutputStream.computeBytesSize(1, com.google.protobuf.ByteString.copyFrom(name));
    byte[] out = new byte[5 + size];
    ByteBuffer.wrap(out).put((byte) 0).putInt(size);
    if (size > 0) {
      CodedOutputStream o = CodedOutputStream.newInstance(out, 5, size);
      try {
        o.writeBytes(1, com.google.protobuf.ByteString.copyFrom(name));
        o.flush();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return out;
  }

  /**
   * The status in one framed response, or -1 when the body is not exactly one uncompressed
   * {@code HealthCheckResponse} (Envoy fails such answers).
   */
  static int servingStatus(byte[] body) {
    if (body.length < 5 || body[0] != 0) {
      return -1;
    }
    int length = ByteBuffer.wrap(body, 1, 4).getInt();
    if (length < 0 || length != body.length - 5) {
      return -1;
    }
    CodedInputStream in = CodedInputStream.newInstance(body, 5, length);
    int status = 0; // proto3 default: UNKNOWN
    try {
      int tag;
      while ((tag = in.readTag()) != 0) {
        if (tag == STATUS_TAG) {
          status = in.readEnum();
        } else if (!in.skipField(tag)) {
          break;
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return status;
  }
}
