package dev.sluice.mesh.model;

import java.util.Map;

/**
 * One object read from a YAML document: an Istio resource ({@code networking.istio.io} kinds) or a
 * Kubernetes {@code Service}/{@code Deployment} used as a registry source. {@code spec} is the
 * document's {@code spec} as snakeyaml loaded it (maps, lists, strings, numbers, booleans);
 * {@code source} says where it came from ({@code file.yaml#2} = third document) for messages.
 */
public record MeshResource(
    String apiVersion,
    String kind,
    String namespace,
    String name,
    Map<String, String> labels,
    Map<String, Object> spec,
    String source) {

  /** {@code Kind/namespace/name}: the identity apply and delete work on. */
  public String key() {
    return kind + "/" + namespace + "/" + name;
  }
}
