package dev.sluice.mesh.model;

import java.util.List;
import java.util.Map;

/**
 * A service in the registry (a Kubernetes Service or a ServiceEntry host). {@code hostname} is the
 * FQDN Istio names clusters by ({@code reviews.default.svc.cluster.local}); {@code vip} the cluster
 * IP clients dial in transparent mode.
 */
public record MeshService(
    String name,
    String namespace,
    String hostname,
    String vip,
    List<ServicePort> ports,
    Map<String, String> selector) {}
