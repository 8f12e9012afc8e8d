package dev.sluice.mesh.xds;

import dev.sluice.mesh.istio.MeshYaml;
import dev.sluice.mesh.istio.RegistryBuilder;
import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshState;
import dev.sluice.mesh.model.ProxyNode;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.XdsResources;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Bookinfo's registry (bookinfo.yaml plus the ingress gateway) and task files, for the translator tests. */
final class Bookinfo {
  static final Path NETWORKING = Path.of("/work/shared/istio/bookinfo/networking");
  static final ServiceRegistry REGISTRY = new RegistryBuilder()
      .build(MeshYaml.load(Path.of("/work/shared/istio/bookinfo/platform/kube/bookinfo.yaml")), true);
  static final ProxyNode PRODUCTPAGE = ProxyNode.parse("sidecar~127.0.1.6~productpage-v1.default~default.svc.cluster.local", ProxyNode.Mode.EXPLICIT);
  static final ProxyNode REVIEWS_V2 = ProxyNode.parse("sidecar~127.0.1.4~reviews-v2.default~default.svc.cluster.local", ProxyNode.Mode.EXPLICIT);
  static final ProxyNode GATEWAY = ProxyNode.parse("router~127.0.0.1~istio-ingressgateway-5d9f8.istio-system~istio-system.svc.cluster.local", ProxyNode.Mode.EXPLICIT);

  private Bookinfo() {}

  /** destination-rule-all.yaml plus the task files, later files replacing resources of the same key (as {@code kubectl apply}). */
  static MeshState state(String... files) {
    List<MeshResource> resources = new ArrayList<>(MeshYaml.load(NETWORKING.resolve("destination-rule-all.yaml")));
    for (String f : files) {
      for (MeshResource r : MeshYaml.load(NETWORKING.resolve(f))) {
        resources.removeIf(old -> old.key().equals(r.key()));
        resources.add(r);
      }
    }
    return new MeshState(1, resources, REGISTRY);
  }

  static XdsResources translate(ProxyNode node, String... files) {
    MeshState state = state(files);
    IstioTranslator t = new IstioTranslator();
    if (!t.validate(state).isEmpty()) {
      throw new AssertionError("invalid: " + t.validate(state));
    }
    return t.translate(state, node);
  }
}
