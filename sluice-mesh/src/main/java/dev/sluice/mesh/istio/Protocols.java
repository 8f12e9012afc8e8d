package dev.sluice.mesh.istio;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Istio's protocol selection for a service port: {@code appProtocol} first, then the port name's
 * prefix ({@code http}, {@code http-web}, {@code grpc-x}...), then the Kubernetes protocol
 * ({@code UDP}); anything else is {@code UNSUPPORTED}, which Istio sniffs and this mesh treats as
 * HTTP on HTTP listeners (as istiod does for sniffed ports).
 */
public final class Protocols {
  public static final String HTTP = "HTTP";
  public static final String HTTP2 = "HTTP2";
  public static final String GRPC = "GRPC";
  public static final String GRPC_WEB = "GRPC-Web";
  public static final String UNSUPPORTED = "UNSUPPORTED";

  private Protocols() {}

  public static String select(@Nullable String name, @Nullable String appProtocol, @Nullable String kubeProtocol) {
    if (appProtocol != null && !appProtocol.isEmpty()) {
      String p = parse(appProtocol);
      if (!p.equals(UNSUPPORTED)) {
        return p;
      }
    }
    if (name != null && !name.isEmpty()) {
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.equals("grpc-web") || lower.startsWith("grpc-web-")) {
        return GRPC_WEB;
      }
      int dash = lower.indexOf('-');
      String p = parse(dash < 0 ? lower : lower.substring(0, dash));
      if (!p.equals(UNSUPPORTED)) {
        return p;
      }
    }
    if ("UDP".equalsIgnoreCase(kubeProtocol)) {
      return "UDP";
    }
    return UNSUPPORTED;
  }

  /** One protocol word as Istio's {@code protocol.Parse} reads it. */
  public static String parse(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "http", "kubernetes.io/ws" -> HTTP;
      case "http2", "kubernetes.io/h2c" -> HTTP2;
      case "grpc" -> GRPC;
      case "grpc-web" -> GRPC_WEB;
      case "https", "kubernetes.io/wss" -> "HTTPS";
      case "tls" -> "TLS";
      case "tcp" -> "TCP";
      case "udp" -> "UDP";
      case "mongo" -> "Mongo";
      case "redis" -> "Redis";
      case "mysql" -> "MySQL";
      default -> UNSUPPORTED;
    };
  }

  /** Ports whose traffic goes through HTTP connection managers (and routes). */
  public static boolean isHttp(String protocol) {
    return switch (protocol) {
      case HTTP, HTTP2, GRPC, GRPC_WEB, UNSUPPORTED -> true;
      default -> false;
    };
  }
}
