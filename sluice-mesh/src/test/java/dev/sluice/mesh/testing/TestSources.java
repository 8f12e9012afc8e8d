package dev.sluice.mesh.testing;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.MeshSources;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A small {@link MeshSources} for the runtime's tests (the real one is in
 * {@code dev.sluice.mesh.istio}): YAML documents to resources; Services to services with HTTP
 * ports, Deployments to workloads at 127.0.0.N (the tests' backends listen on 127.0.0.1, so the
 * first Deployment of a test sits there) and apps at 127.1.0.N.
 */
public final class TestSources implements MeshSources {
  @Override
  @SuppressWarnings("unchecked")
  public List<MeshResource> parse(String yaml, String source) {
    List<MeshResource> out = new ArrayList<>();
    int i = 0;
    for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yaml)) {
      if (doc == null) {
        i++;
        continue;
      }
      if (!(doc instanceof Map<?, ?> m) || !(m.get("metadata") instanceof Map<?, ?> meta) || m.get("kind") == null) {
        throw new IllegalArgumentException(source + "#" + i + ": not a Kubernetes object (kind, metadata)");
      }
      out.add(new MeshResource(String.valueOf(m.get("apiVersion")), String.valueOf(m.get("kind")),
          String.valueOf(((Map<String, Object>) meta).getOrDefault("namespace", "default")),
          String.valueOf(meta.get("name")),
          (Map<String, String>) ((Map<String, Object>) meta).getOrDefault("labels", Map.of()),
          (Map<String, Object>) ((Map<String, Object>) m).getOrDefault("spec", Map.of()), source + "#" + i));
      i++;
    }
    return out;
  }

  @Override
  @SuppressWarnings("unchecked")
  public ServiceRegistry registry(List<MeshResource> objects) {
    List<MeshService> services = new ArrayList<>();
    List<Workload> workloads = new ArrayList<>();
    for (MeshResource r : objects) {
      if (r.kind().equals("Service")) {
        List<ServicePort> ports = new ArrayList<>();
        for (Map<String, Object> p : (List<Map<String, Object>>) r.spec().get("ports")) {
          int port = ((Number) p.get("port")).intValue();
          Object target = p.getOrDefault("targetPort", port);
          ports.add(new ServicePort(String.valueOf(p.getOrDefault("name", "http")), port, ((Number) target).intValue(), "HTTP"));
        }
        services.add(new MeshService(r.name(), r.namespace(), r.name() + "." + r.namespace() + ".svc.cluster.local",
            "", ports, (Map<String, String>) r.spec().getOrDefault("selector", Map.of())));
      } else if (r.kind().equals("Deployment")) {
        int n = workloads.size() + 1;
        Map<String, Object> template = (Map<String, Object>) r.spec().get("template");
        Map<String, String> labels = (Map<String, String>) ((Map<String, Object>) template.get("metadata")).get("labels");
        workloads.add(new Workload(r.name(), r.namespace(), labels, "default", "127.0.0." + n, "127.1.0." + n));
      }
    }
    return new ServiceRegistry(services, workloads);
  }
}
