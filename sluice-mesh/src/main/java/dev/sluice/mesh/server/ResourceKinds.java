package dev.sluice.mesh.server;

import java.util.Locale;
import java.util.Map;

/**
 * How a kind may be named on the command line, as kubectl accepts it: the kind in any case,
 * its plural, or Istio's short name ({@code vs}, {@code dr}, {@code gw}, {@code se}, {@code we}).
 */
public final class ResourceKinds {
  private static final Map<String, String> SHORT = Map.of(
      "vs", "virtualservice", "dr", "destinationrule", "gw", "gateway", "se", "serviceentry",
      "we", "workloadentry", "svc", "service", "deploy", "deployment");

  private ResourceKinds() {}

  public static boolean matches(String asked, String kind) {
    String a = asked.toLowerCase(Locale.ROOT);
    a = SHORT.getOrDefault(a, a);
    String k = kind.toLowerCase(Locale.ROOT);
    return a.equals(k) || a.equals(k + "s") || a.equals(k + "es");
  }
}
