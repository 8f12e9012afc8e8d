package dev.sluice.tls;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;

/** Builders for the TLS protos the tests use. */
final class TlsConfigs {
  private TlsConfigs() {}

  static DataSource inline(String text) {
    return DataSource.newBuilder().setInlineString(text).build();
  }

  static TlsCertificate certificate(String certPem, String keyPem) {
    return TlsCertificate.newBuilder().setCertificateChain(inline(certPem)).setPrivateKey(inline(keyPem)).build();
  }

  static CertificateValidationContext.Builder trusting(String caPem) {
    return CertificateValidationContext.newBuilder().setTrustedCa(inline(caPem));
  }

  static SubjectAltNameMatcher san(SubjectAltNameMatcher.SanType type, StringMatcher matcher) {
    return SubjectAltNameMatcher.newBuilder().setSanType(type).setMatcher(matcher).build();
  }

  static StringMatcher exact(String s) {
    return StringMatcher.newBuilder().setExact(s).build();
  }

  static StringMatcher prefix(String s) {
    return StringMatcher.newBuilder().setPrefix(s).build();
  }

  static Secret certificateSecret(String name, String certPem, String keyPem) {
    return Secret.newBuilder().setName(name).setTlsCertificate(certificate(certPem, keyPem)).build();
  }

  static Secret caSecret(String name, String caPem) {
    return Secret.newBuilder().setName(name).setValidationContext(trusting(caPem)).build();
  }
}
