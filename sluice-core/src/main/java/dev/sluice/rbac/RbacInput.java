package dev.sluice.rbac;

import com.google.protobuf.Value;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** What RBAC permissions and principals look at: a connection, and for HTTP a request. */
public interface RbacInput {
  /** The request headers, or null on the network filter (header and path rules then never match). */
  @Nullable Http2Headers headers();

  /** The physical peer ({@code direct_remote_ip}, {@code source_ip}). */
  InetSocketAddress directRemoteAddress();

  /** The peer after {@code x-forwarded-for} processing ({@code remote_ip}). */
  InetSocketAddress remoteAddress();

  /** The connection's (original) destination ({@code destination_ip}, {@code destination_port}). */
  InetSocketAddress localAddress();

  /** The SNI, or null. */
  @Nullable String requestedServerName();

  /** The TLS identities of the connection, or null when it is not TLS. */
  @Nullable TlsPeer tls();

  /** A string filter-state object by key, or null. */
  @Nullable String filterState(String key);

  /** The dynamic metadata value at {@code filter} / {@code path}, or null when absent. */
  default @Nullable Value dynamicMetadata(String filter, List<String> path) {
    return null;
  }
}
