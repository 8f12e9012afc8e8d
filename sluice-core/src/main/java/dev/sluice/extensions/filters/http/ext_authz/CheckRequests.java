package dev.sluice.extensions.filters.http.ext_authz;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import dev.sluice.api.network.DownstreamConnection;
import dev.sluice.api.stream.StreamInfo;
import dev.sluice.rbac.ConnectionInput;
import dev.sluice.rbac.TlsPeer;
import dev.sluice.router.StringMatcher;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.jspecify.annotations.Nullable;

/**
 * Builds the {@code CheckRequest} of one request as Envoy's ext_authz does: source and destination
 * peers (address, SPIFFE principal, optionally the peer certificate in URL-encoded PEM), the HTTP
 * request (method, path, host, scheme, protocol, id, headers with repeated values joined by ',',
 * size and body), the route's context extensions, the requested dynamic metadata namespaces, and
 * the SNI when {@code include_tls_session}.
 */
final class CheckRequests {
  private CheckRequests() {}

  static CheckRequest build(
      ExtAuthzConfig config,
      DownstreamConnection connection,
      StreamInfo info,
      Http2Headers headers,
      byte @Nullable [] body,
      Map<String, String> contextExtensions) {
    TlsPeer tls = ConnectionInput.of(connection).tls();
    AttributeContext.Peer.Builder source = AttributeContext.Peer.newBuilder()
        .setAddress(address(info.downstreamRemoteAddress != null ? info.downstreamRemoteAddress : connection.remoteAddress));
    AttributeContext.Peer.Builder destination = AttributeContext.Peer.newBuilder().setAddress(address(connection.localAddress));
    if (tls != null) {
      String peer = tls.peerPrincipal();
      source.setPrincipal(peer != null ? peer : tls.dnsSans().isEmpty() ? tls.subject() : tls.dnsSans().getFirst());
      if (tls.localUriSan() != null) {
        destination.setPrincipal(tls.localUriSan());
      }
      if (config.includePeerCertificate()) {
        String pem = peerCertificatePem(connection);
        if (pem != null) {
          source.setCertificate(pem);
        }
      }
    }
    AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder();
    Map<String, String> sent = new LinkedHashMap<>();
    for (Map.Entry<CharSequence, CharSequence> h : headers) {
      String name = h.getKey().toString();
      if (!allowed(config, name)) {
        continue;
      }
      sent.merge(name, h.getValue().toString(), (a, b) -> a + "," + b);
    }
    http.putAllHeaders(sent);
    http.setMethod(str(headers.method()))
        .setPath(str(headers.path()))
        .setHost(str(headers.authority()))
        .setScheme(str(headers.scheme()))
        .setProtocol(info.protocol == null ? "" : info.protocol);
    String id = info.requestId != null ? info.requestId : str(headers.get("x-request-id"));
    http.setId(id);
    CharSequence length = headers.get("content-length");
    if (body != null) {
      http.setSize(body.length);
      if (config.packAsBytes()) {
        http.setRawBody(ByteString.copyFrom(body));
      } else {
        http.setBody(new String(body, java.nio.charset.StandardCharsets.UTF_8));
      }
    } else if (length != null) {
      try {
        http.setSize(Long.parseLong(length.toString()));
      } catch (NumberFormatException e) {
        http.setSize(-1);
      }
    } else {
      http.setSize(-1);
    }
    long millis = info.startTimeEpochMillis;
    AttributeContext.Builder attributes = AttributeContext.newBuilder()
        .setSource(source)
        .setDestination(destination)
        .setRequest(AttributeContext.Request.newBuilder()
            .setTime(Timestamp.newBuilder().setSeconds(millis / 1000).setNanos((int) (millis % 1000) * 1_000_000))
            .setHttp(http))
        .putAllContextExtensions(contextExtensions);
    if (!config.metadataContextNamespaces().isEmpty()) {
      Map<String, Struct> all = info.dynamicMetadata().getFilterMetadataMap();
      var metadata = io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder();
      for (String ns : config.metadataContextNamespaces()) {
        Struct s = all.get(ns);
        if (s != null) {
          metadata.putFilterMetadata(ns, s);
        }
      }
      attributes.setMetadataContext(metadata);
    }
    if (config.includeTlsSession() && connection.serverName != null) {
      attributes.setTlsSession(AttributeContext.TLSSession.newBuilder().setSni(connection.serverName));
    }
    return CheckRequest.newBuilder().setAttributes(attributes).build();
  }

  /** {@code allowed_headers} (when set) must match; {@code disallowed_headers} must not. */
  private static boolean allowed(ExtAuthzConfig config, String name) {
    if (!config.allowedHeaders().isEmpty() && !anyMatch(config.allowedHeaders(), name)) {
      return false;
    }
    return !anyMatch(config.disallowedHeaders(), name);
  }

  private static boolean anyMatch(List<StringMatcher> matchers, String name) {
    for (StringMatcher m : matchers) {
      if (m.matches(name)) {
        return true;
      }
    }
    return false;
  }

  private static Address address(InetSocketAddress a) {
    return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
        .setAddress(a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress())
        .setPortValue(a.getPort())).build();
  }

  private static String str(@Nullable CharSequence s) {
    return s == null ? "" : s.toString();
  }

  /** The peer's leaf certificate as URL-encoded PEM (Envoy's {@code urlEncodedPemEncodedPeerCertificate}). */
  private static @Nullable String peerCertificatePem(DownstreamConnection connection) {
    SslHandler ssl = connection.channel.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return null;
    }
    try {
      Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
        return null;
      }
      String pem = "-----BEGIN CERTIFICATE-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(leaf.getEncoded())
          + "\n-----END CERTIFICATE-----\n";
      return java.net.URLEncoder.encode(pem, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    } catch (SSLPeerUnverifiedException | java.security.cert.CertificateEncodingException e) {
      return null;
    }
  }
}
