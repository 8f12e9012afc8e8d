package dev.sluice.tls;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol;
import io.netty.handler.ssl.CipherSuiteConverter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A compiled {@code tls_params}: the protocol versions, the TLS 1.0-1.2 cipher suites (Java names,
 * which Netty maps back for BoringSSL) and the ECDH groups, with Envoy's defaults (TLS 1.2 to 1.3
 * for servers, TLS 1.2 only for clients; its default cipher list).
 */
record TlsParams(List<String> protocols, List<String> cipherSuites, List<String> curves) {
  /** Envoy's default cipher list (non-FIPS), equal-preference groups flattened. */
  private static final List<String> DEFAULT_CIPHERS = List.of(
      "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
      "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
      "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384");
  /** BoringSSL's TLS 1.3 suites are fixed: {@code cipher_suites} does not apply to TLS 1.3. */
  private static final List<String> TLS13_CIPHERS = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");
  private static final List<String> VERSIONS = List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");

  TlsParams {
    protocols = List.copyOf(protocols);
    cipherSuites = List.copyOf(cipherSuites);
    curves = List.copyOf(curves);
  }

  static TlsParams compile(TlsParameters p, boolean server, String path) {
    int min = p.getTlsMinimumProtocolVersion() == TlsProtocol.TLS_AUTO ? 2 : version(p.getTlsMinimumProtocolVersion(), path + ".tls_minimum_protocol_version");
    int max = p.getTlsMaximumProtocolVersion() == TlsProtocol.TLS_AUTO ? (server ? 3 : 2) : version(p.getTlsMaximumProtocolVersion(), path + ".tls_maximum_protocol_version");
    if (min > max) {
      throw new ConfigException(path, "tls_minimum_protocol_version is above tls_maximum_protocol_version");
    }
    List<String> protocols = VERSIONS.subList(min, max + 1);
    Set<String> ciphers = new LinkedHashSet<>();
    List<String> configured = p.getCipherSuitesCount() == 0 ? DEFAULT_CIPHERS : p.getCipherSuitesList();
    for (int i = 0; i < configured.size(); i++) {
      addCipherEntry(configured.get(i), ciphers, path + ".cipher_suites[" + i + "]");
    }
    if (max == 3) {
      ciphers.addAll(TLS13_CIPHERS);
    }
    if (p.getSignatureAlgorithmsCount() > 0) {
      // Netty exposes no per-context signature algorithm list; BoringSSL's defaults apply.
      org.slf4j.LoggerFactory.getLogger(TlsParams.class).warn("{}.signature_algorithms is ignored: BoringSSL's defaults apply", path);
    }
    if (p.getCompliancePoliciesCount() > 0) {
      throw new ConfigException(path + ".compliance_policies", "compliance policies (FIPS) are not supported");
    }
    List<String> curves = new ArrayList<>();
    for (int i = 0; i < p.getEcdhCurvesCount(); i++) {
      String c = p.getEcdhCurves(i);
      if (!c.matches("X25519|P-256|P-384|P-521|X25519MLKEM768|X25519Kyber768Draft00")) {
        throw new ConfigException(path + ".ecdh_curves[" + i + "]", "Failed to initialize ECDH curves " + c);
      }
      curves.add(c);
    }
    return new TlsParams(protocols, new ArrayList<>(ciphers), curves);
  }

  private static int version(TlsProtocol v, String path) {
    return switch (v) {
      case TLSv1_0 -> 0;
      case TLSv1_1 -> 1;
      case TLSv1_2 -> 2;
      case TLSv1_3 -> 3;
      default -> throw new ConfigException(path, "unknown TLS protocol version " + v);
    };
  }

  /**
   * One entry of BoringSSL's cipher list: a suite name or an equal-preference group
   * {@code [A|B]} (flattened: Netty orders strictly). TLS 1.3 names are accepted and ignored.
   */
  private static void addCipherEntry(String entry, Set<String> out, String path) {
    String e = entry.trim();
    if (e.startsWith("[") && e.endsWith("]")) {
      e = e.substring(1, e.length() - 1);
    }
    for (String name : e.split("\\|")) {
      if (TLS13_CIPHERS.contains(name)) {
        continue;
      }
      String java = name.startsWith("TLS_") ? name : CipherSuiteConverter.toJava(name, "TLS");
      if (java == null || !SslProviders.supportedCipherSuites().contains(java)) {
        throw new ConfigException(path, "Failed to initialize cipher suites " + entry + ": unknown cipher '" + name + "'");
      }
      out.add(java);
    }
  }
}
