package dev.sluice.tls;

import static dev.sluice.tls.TlsConfigs.exact;
import static dev.sluice.tls.TlsConfigs.prefix;
import static dev.sluice.tls.TlsConfigs.san;
import static dev.sluice.tls.TlsConfigs.trusting;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher.SanType;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;

/**
 * SAN matching against the test server certificate (DNS server.test and *.wild.test, URI
 * spiffe://cluster.local/ns/default/sa/server, IP 127.0.0.1, email ops@server.test).
 */
class SanMatcherTest {
  private static final X509Certificate SERVER = TestPki.certs(TestPki.get().serverCert).get(0);

  private static boolean matches(SanType type, StringMatcher m) {
    CertificateValidationContext v = trusting(TestPki.get().caCert).addMatchTypedSubjectAltNames(san(type, m)).build();
    return SanMatcher.anyMatches(SanMatcher.compile(v, "v"), SERVER);
  }

  @Test
  void typedMatchersCompareOnlyTheirOwnSanType() {
    assertThat(matches(SanType.DNS, exact("server.test"))).isTrue();
    assertThat(matches(SanType.DNS, exact("SERVER.test"))).isTrue(); // DNS names ignore case
    assertThat(matches(SanType.URI, exact("server.test"))).isFalse();
    assertThat(matches(SanType.URI, prefix("spiffe://cluster.local/ns/default/"))).isTrue();
    assertThat(matches(SanType.URI, StringMatcher.newBuilder().setSuffix("/sa/server").build())).isTrue();
    assertThat(matches(SanType.URI, StringMatcher.newBuilder().setContains("/ns/other/").build())).isFalse();
    assertThat(matches(SanType.IP_ADDRESS, exact("127.0.0.1"))).isTrue();
    assertThat(matches(SanType.EMAIL, exact("ops@server.test"))).isTrue();
    assertThat(matches(SanType.URI, StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex("spiffe://[a-z.]+/ns/default/sa/.*")).build())).isTrue();
    assertThat(matches(SanType.URI, StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex("default")).build())).isFalse(); // full match
  }

  @Test
  void exactDnsMatcherAcceptsOneLabelWildcards() {
    assertThat(matches(SanType.DNS, exact("api.wild.test"))).isTrue();
    assertThat(matches(SanType.DNS, exact("wild.test"))).isFalse();
    assertThat(matches(SanType.DNS, exact("a.b.wild.test"))).isFalse();
    // Only exact matchers get wildcard semantics; a prefix sees the literal "*.wild.test".
    assertThat(matches(SanType.DNS, prefix("api."))).isFalse();
  }

  @Test
  void untypedMatchersApplyToEveryType() {
    CertificateValidationContext v = trusting(TestPki.get().caCert).addMatchSubjectAltNames(exact("127.0.0.1")).build();
    assertThat(SanMatcher.anyMatches(SanMatcher.compile(v, "v"), SERVER)).isTrue();
    CertificateValidationContext none = trusting(TestPki.get().caCert).addMatchSubjectAltNames(prefix("spiffe://other/")).build();
    assertThat(SanMatcher.anyMatches(SanMatcher.compile(none, "v"), SERVER)).isFalse();
  }

  @Test
  void badMatchersNameTheirField() {
    CertificateValidationContext other = CertificateValidationContext.newBuilder()
        .addMatchTypedSubjectAltNames(san(SanType.OTHER_NAME, exact("x"))).build();
    assertThatThrownBy(() -> SanMatcher.compile(other, "v"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("v.match_typed_subject_alt_names[0].san_type");
    CertificateValidationContext regex = CertificateValidationContext.newBuilder()
        .addMatchTypedSubjectAltNames(san(SanType.DNS, StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex("(")).build())).build();
    assertThatThrownBy(() -> SanMatcher.compile(regex, "v"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("v.match_typed_subject_alt_names[0].matcher.safe_regex");
  }
}
