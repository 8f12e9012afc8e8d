package dev.sluice.mesh.model;

import java.util.List;

/** The services and workloads the control plane knows, as an immutable value. */
public record ServiceRegistry(List<MeshService> services, List<Workload> workloads) {
  public ServiceRegistry {
    services = List.copyOf(services);
    workloads = List.copyOf(workloads);
  }

  public static ServiceRegistry empty() {
    return new ServiceRegistry(List.of(), List.of());
  }
}
