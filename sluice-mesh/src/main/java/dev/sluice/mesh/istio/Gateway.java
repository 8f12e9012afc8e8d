package dev.sluice.mesh.istio;

import dev.sluice.mesh.model.MeshResource;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** A parsed Gateway: which gateway workloads (by label selector) open which server ports for which hosts. */
public record Gateway(MeshResource resource, Map<String, String> selector, List<Server> servers) {

  public record Server(int port, @Nullable String portName, String protocol, List<String> hosts) {}

  /** The name VirtualServices use for it: {@code namespace/name}. */
  public String qualifiedName() {
    return resource.namespace() + "/" + resource.name();
  }
}
