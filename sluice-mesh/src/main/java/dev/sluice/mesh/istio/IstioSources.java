package dev.sluice.mesh.istio;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshSources;
import dev.sluice.mesh.model.ServiceRegistry;
import java.util.List;

/**
 * The control plane's inputs read as Istio and Kubernetes YAML: multi-document files through
 * {@link MeshYaml}, and Services/Deployments (plus the ingress gateway) into the registry through
 * one {@link RegistryBuilder}, whose address allocator keeps every workload's addresses stable for
 * the control plane's life.
 */
public final class IstioSources implements MeshSources {
  private final RegistryBuilder registry = new RegistryBuilder();

  @Override
  public List<MeshResource> parse(String yaml, String source) {
    return MeshYaml.parse(yaml, source);
  }

  @Override
  public ServiceRegistry registry(List<MeshResource> objects) {
    return registry.build(objects, true);
  }
}
