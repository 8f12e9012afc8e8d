package dev.sluice.tls;

import com.google.common.net.InetAddresses;
import dev.sluice.api.config.ConfigException;
import dev.sluice.router.StringMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * One {@code match_typed_subject_alt_names} entry: a SAN type and a StringMatcher. An {@code exact}
 * DNS matcher also accepts a wildcard SAN covering the name (RFC 6125 section 6.4.3:
 * {@code *.example.com} covers {@code api.example.com}, not {@code example.com} nor
 * {@code a.b.example.com}) and compares case-insensitively, as Envoy does.
 */
record SanMatcher(int generalNameType, StringMatcher matcher, @Nullable String exactDns) {
  /** X.509 GeneralName tags as {@link X509Certificate#getSubjectAlternativeNames()} reports them. */
  static final int EMAIL = 1;
  static final int DNS = 2;
  static final int URI = 6;
  static final int IP = 7;

  /**
   * The matchers of a validation context: the typed ones, or else each deprecated untyped
   * {@code match_subject_alt_names} entry applied to DNS, URI, email and IP SANs (as Envoy converts them).
   */
  static List<SanMatcher> compile(CertificateValidationContext v, String path) {
    List<SanMatcher> out = new ArrayList<>();
    if (v.getMatchTypedSubjectAltNamesCount() > 0) {
      for (int i = 0; i < v.getMatchTypedSubjectAltNamesCount(); i++) {
        SubjectAltNameMatcher m = v.getMatchTypedSubjectAltNames(i);
        String p = path + ".match_typed_subject_alt_names[" + i + "]";
        int type = switch (m.getSanType()) {
          case EMAIL -> EMAIL;
          case DNS -> DNS;
          case URI -> URI;
          case IP_ADDRESS -> IP;
          case OTHER_NAME -> throw new ConfigException(p + ".san_type", "OTHER_NAME SAN matching is not supported");
          case SAN_TYPE_UNSPECIFIED, UNRECOGNIZED -> throw new ConfigException(p + ".san_type", "a SAN type is required");
        };
        if (!m.hasMatcher()) {
          throw new ConfigException(p + ".matcher", "a matcher is required");
        }
        out.add(of(type, m.getMatcher(), p + ".matcher"));
      }
    } else {
      for (int i = 0; i < v.getMatchSubjectAltNamesCount(); i++) {
        var m = v.getMatchSubjectAltNames(i);
        String p = path + ".match_subject_alt_names[" + i + "]";
        for (int type : new int[] {DNS, URI, EMAIL, IP}) {
          out.add(of(type, m, p));
        }
      }
    }
    return List.copyOf(out);
  }

  private static SanMatcher of(int type, io.envoyproxy.envoy.type.matcher.v3.StringMatcher m, String path) {
    String exactDns = type == DNS && m.getMatchPatternCase() == io.envoyproxy.envoy.type.matcher.v3.StringMatcher.MatchPatternCase.EXACT
        ? m.getExact().toLowerCase(Locale.ROOT) : null;
    return new SanMatcher(type, StringMatcher.compile(m, path), exactDns);
  }

  /** True when one of the certificate's SANs matches one of {@code matchers}. */
  static boolean anyMatches(List<SanMatcher> matchers, X509Certificate cert) {
    Collection<List<?>> sans;
    try {
      sans = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return false;
    }
    if (sans == null) {
      return false;
    }
    for (List<?> san : sans) {
      if (!(san.get(0) instanceof Integer type) || !(san.get(1) instanceof String raw)) {
        continue;
      }
      String value = type == IP ? normalizeIp(raw) : raw;
      for (SanMatcher m : matchers) {
        if (m.generalNameType == type && m.matches(value)) {
          return true;
        }
      }
    }
    return false;
  }

  private boolean matches(String san) {
    if (exactDns != null) {
      // DNS names compare case-insensitively; a wildcard covers exactly one leading label.
      String name = san.toLowerCase(Locale.ROOT);
      if (name.startsWith("*.")) {
        int dot = exactDns.indexOf('.');
        return dot > 0 && exactDns.substring(dot).equals(name.substring(1));
      }
      return name.equals(exactDns);
    }
    return matcher.matches(san);
  }

  /** The JDK prints IPv6 SANs uncompressed; Envoy compares the compressed form ({@code ::1}). */
  private static String normalizeIp(String ip) {
    try {
      return InetAddresses.toAddrString(InetAddresses.forString(ip));
    } catch (IllegalArgumentException e) {
      return ip;
    }
  }
}
