package dev.sluice.rbac;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** An {@link RbacInput} with every fact given, for matcher tests. */
record TestInput(
    @Nullable Http2Headers headers,
    InetSocketAddress directRemoteAddress,
    InetSocketAddress remoteAddress,
    InetSocketAddress localAddress,
    @Nullable String requestedServerName,
    @Nullable TlsPeer tls,
    Map<String, Struct> metadata) implements RbacInput {

  static TestInput of(@Nullable Http2Headers headers) {
    InetSocketAddress peer = new InetSocketAddress("10.0.0.1", 40000);
    return new TestInput(headers, peer, peer, new InetSocketAddress("10.0.0.9", 9080), null, null, Map.of());
  }

  TestInput withPeer(String spiffe) {
    return new TestInput(headers, directRemoteAddress, remoteAddress, localAddress, requestedServerName,
        new TlsPeer(List.of(spiffe), List.of(), "CN=peer", "spiffe://cluster.local/ns/default/sa/httpbin"), metadata);
  }

  TestInput withMetadata(String filter, Struct value) {
    return new TestInput(headers, directRemoteAddress, remoteAddress, localAddress, requestedServerName, tls, Map.of(filter, value));
  }

  TestInput withAddresses(String direct, String remote, String local, int localPort) {
    return new TestInput(headers, new InetSocketAddress(direct, 1), new InetSocketAddress(remote, 1),
        new InetSocketAddress(local, localPort), requestedServerName, tls, metadata);
  }

  TestInput withSni(String sni) {
    return new TestInput(headers, directRemoteAddress, remoteAddress, localAddress, sni, tls, metadata);
  }

  @Override
  public @Nullable String filterState(String key) {
    return key.equals(ConnectionInput.PEER_PRINCIPAL) && tls != null ? tls.peerPrincipal() : null;
  }

  @Override
  public @Nullable Value dynamicMetadata(String filter, List<String> path) {
    Struct s = metadata.get(filter);
    Value v = null;
    for (String key : path) {
      if (s == null) {
        return null;
      }
      v = s.getFieldsMap().get(key);
      s = v != null && v.hasStructValue() ? v.getStructValue() : null;
    }
    return v;
  }
}
