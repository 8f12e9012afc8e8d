/** Istio and Kubernetes YAML: loading, the local service registry, Istio resource parsing and validation. */
@NullMarked
package dev.sluice.mesh.istio;

import org.jspecify.annotations.NullMarked;
