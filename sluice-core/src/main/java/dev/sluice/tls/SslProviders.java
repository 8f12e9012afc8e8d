package dev.sluice.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * BoringSSL through netty-tcnative when its native library loads (as Envoy uses BoringSSL), else
 * the JDK's TLS. {@link SslProvider#OPENSSL} (not the ref-counted variant) frees native contexts
 * when they become unreachable, so replaced contexts need no explicit release.
 */
final class SslProviders {
  static final SslProvider PROVIDER = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;

  private SslProviders() {}

  /** The cipher suites (Java names) the provider can negotiate. */
  static Set<String> supportedCipherSuites() {
    if (PROVIDER == SslProvider.OPENSSL) {
      return OpenSsl.availableJavaCipherSuites();
    }
    try {
      return Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no default JDK TLS context", e);
    }
  }

  /** Applies protocol versions, ciphers, ECDH groups and ALPN shared by clients and servers. */
  static SslContextBuilder common(SslContextBuilder b, TlsParams params, List<String> alpn) {
    b.sslProvider(PROVIDER)
        .protocols(params.protocols())
        .ciphers(params.cipherSuites(), IdentityCipherSuiteFilter.INSTANCE);
    if (!params.curves().isEmpty() && PROVIDER == SslProvider.OPENSSL) {
      b.option(OpenSslContextOption.GROUPS, params.curves().toArray(new String[0]));
    }
    if (!alpn.isEmpty()) {
      // No overlap is not an error: the connection goes on without ALPN (BoringSSL's NOACK).
      b.applicationProtocolConfig(new ApplicationProtocolConfig(
          ApplicationProtocolConfig.Protocol.ALPN,
          ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
          ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
          alpn));
    }
    return b;
  }
}
