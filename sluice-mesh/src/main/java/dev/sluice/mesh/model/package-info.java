/**
 * The control plane's input model: Istio/Kubernetes objects as read from YAML, the local service
 * registry, the proxies that connect, and the translator contract that turns them into xDS.
 */
@NullMarked
package dev.sluice.mesh.model;

import org.jspecify.annotations.NullMarked;
