package dev.sluice.mesh.model;

import java.util.List;

/**
 * Everything the translator needs at one version: the Istio resources in force and the registry.
 * {@code version} rises by one with every accepted change; it is the xDS {@code version_info}.
 */
public record MeshState(long version, List<MeshResource> resources, ServiceRegistry registry) {
  public MeshState {
    resources = List.copyOf(resources);
  }
}
