package dev.sluice.mesh.model;

import java.util.List;

/**
 * Reads the control plane's inputs: YAML text into resources, and Kubernetes
 * {@code Service}/{@code Deployment} objects (such as {@code bookinfo.yaml}) into the registry,
 * assigning each workload its addresses. The runtime (server, CLI, demo) finds the implementation
 * with {@link java.util.ServiceLoader}, as it finds the {@link MeshTranslator}.
 */
public interface MeshSources {
  /**
   * Every document of a (multi-document) YAML text; {@code source} names it in messages
   * ({@code file.yaml}, documents become {@code file.yaml#N}); a missing namespace is
   * {@code default}.
   *
   * @throws IllegalArgumentException naming the source and document that cannot be read
   */
  List<MeshResource> parse(String yaml, String source);

  /** The services and workloads the Kubernetes objects among {@code objects} describe (other kinds ignored). */
  ServiceRegistry registry(List<MeshResource> objects);
}
