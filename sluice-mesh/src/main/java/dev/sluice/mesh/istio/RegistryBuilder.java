package dev.sluice.mesh.istio;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServicePort;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.Workload;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Builds the {@link ServiceRegistry} from Kubernetes {@code Service} and {@code Deployment}
 * documents (such as Bookinfo's {@code bookinfo.yaml}) and Istio {@code ServiceEntry} /
 * {@code WorkloadEntry}: a service per Service named {@code name.ns.svc.cluster.local} with its
 * ports and Istio's protocol per port; one workload per Deployment (one replica: this mesh runs
 * one instance of each) labelled as its pod template; each ServiceEntry host a service. Addresses
 * come from the {@link AddressAllocator}; keep one builder for the control plane's life so they
 * stay put across re-reads. A malformed document throws {@link MeshYamlException} naming it.
 */
public final class RegistryBuilder {
  /** The ingress gateway workload, as Istio's default install labels it. */
  public static final String INGRESS_GATEWAY = "istio-ingressgateway";
  public static final String INGRESS_NAMESPACE = "istio-system";
  public static final Map<String, String> INGRESS_LABELS = Map.of("istio", "ingressgateway", "app", "istio-ingressgateway");

  private final AddressAllocator addresses;

  public RegistryBuilder(AddressAllocator addresses) {
    this.addresses = addresses;
  }

  public RegistryBuilder() {
    this(new AddressAllocator());
  }

  /**
   * The registry of {@code resources}; with {@code ingressGateway}, plus the workload
   * {@code istio-ingressgateway} (namespace {@code istio-system}, labels {@code istio=ingressgateway})
   * at 127.0.0.1, where docs/mesh.md puts the gateway.
   */
  public ServiceRegistry build(List<MeshResource> resources, boolean ingressGateway) {
    List<MeshService> services = new ArrayList<>();
    List<Workload> workloads = new ArrayList<>();
    // Named container ports of each Deployment, for Services whose targetPort is a name.
    Map<String, Map<String, Integer>> namedPorts = new HashMap<>();
    for (MeshResource r : resources) {
      if (r.kind().equals("Deployment") && r.apiVersion().startsWith("apps/")) {
        workloads.add(deployment(r, namedPorts));
      } else if (r.kind().equals("WorkloadEntry") && r.apiVersion().startsWith(IstioParser.NETWORKING + "/")) {
        workloads.add(workloadEntry(r));
      }
    }
    for (MeshResource r : resources) {
      if (r.kind().equals("Service") && r.apiVersion().equals("v1")) {
        services.add(kubeService(r, workloads, namedPorts));
      } else if (r.kind().equals("ServiceEntry") && r.apiVersion().startsWith(IstioParser.NETWORKING + "/")) {
        services.addAll(serviceEntry(r));
      }
    }
    if (ingressGateway) {
      workloads.add(new Workload(INGRESS_GATEWAY, INGRESS_NAMESPACE, INGRESS_LABELS, INGRESS_GATEWAY, "127.0.0.1", "127.0.0.1"));
    }
    return new ServiceRegistry(services, workloads);
  }

  private Workload deployment(MeshResource r, Map<String, Map<String, Integer>> namedPorts) {
    Map<String, Object> template = map(r.spec(), "template", r, "spec");
    Map<String, Object> meta = map(template, "metadata", r, "spec.template");
    Map<String, Object> podSpec = map(template, "spec", r, "spec.template");
    Map<String, String> labels = strings(meta.get("labels"), r, "spec.template.metadata.labels");
    Object sa = podSpec.get("serviceAccountName");
    Map<String, Integer> ports = new HashMap<>();
    if (podSpec.get("containers") instanceof List<?> containers) {
      for (Object c : containers) {
        if (SpecReader.asMap(c) instanceof Map<String, Object> cm && cm.get("ports") instanceof List<?> cps) {
          for (Object cp : cps) {
            if (SpecReader.asMap(cp) instanceof Map<String, Object> p && p.get("name") instanceof String n
                && p.get("containerPort") instanceof Integer port) {
              ports.put(n, port);
            }
          }
        }
      }
    }
    namedPorts.put(r.namespace() + "/" + r.name(), ports);
    return new Workload(r.name(), r.namespace(), labels, sa instanceof String s ? s : "default",
        addresses.sidecarAddress(r.namespace(), r.name()), addresses.appAddress(r.namespace(), r.name()));
  }

  private Workload workloadEntry(MeshResource r) {
    Object address = r.spec().get("address");
    if (!(address instanceof String a) || a.isEmpty()) {
      throw new MeshYamlException(r.source() + ": " + r.key() + ": spec.address is required");
    }
    Object sa = r.spec().get("serviceAccount");
    return new Workload(r.name(), r.namespace(), strings(r.spec().get("labels"), r, "spec.labels"),
        sa instanceof String s ? s : "default", a, a);
  }

  private MeshService kubeService(MeshResource r, List<Workload> workloads, Map<String, Map<String, Integer>> namedPorts) {
    String hostname = r.name() + "." + r.namespace() + "." + IstioConfig.DOMAIN;
    Map<String, String> selector = strings(r.spec().get("selector"), r, "spec.selector");
    List<ServicePort> ports = new ArrayList<>();
    List<Map<String, Object>> list = maps(r.spec().get("ports"), r, "spec.ports");
    for (int i = 0; i < list.size(); i++) {
      Map<String, Object> p = list.get(i);
      String path = "spec.ports[" + i + "]";
      if (!(p.get("port") instanceof Integer port)) {
        throw new MeshYamlException(r.source() + ": " + r.key() + ": " + path + ".port must be an integer");
      }
      String name = p.get("name") instanceof String n ? n : null;
      int target = targetPort(p.get("targetPort"), port, r, path, selector, workloads, namedPorts);
      ports.add(new ServicePort(name == null ? "" : name, port, target,
          Protocols.select(name, p.get("appProtocol") instanceof String ap ? ap : null,
              p.get("protocol") instanceof String kp ? kp : null)));
    }
    return new MeshService(r.name(), r.namespace(), hostname, addresses.serviceVip(hostname), ports, selector);
  }

  /** A number, or a container port name resolved in the first selected Deployment; absent means the service port. */
  private static int targetPort(@Nullable Object target, int port, MeshResource r, String path, Map<String, String> selector,
      List<Workload> workloads, Map<String, Map<String, Integer>> namedPorts) {
    if (target == null) {
      return port;
    }
    if (target instanceof Integer t) {
      return t;
    }
    if (target instanceof String name) {
      for (Workload w : workloads) {
        if (w.namespace().equals(r.namespace()) && w.labels().entrySet().containsAll(selector.entrySet())) {
          Integer p = namedPorts.getOrDefault(w.namespace() + "/" + w.name(), Map.of()).get(name);
          if (p != null) {
            return p;
          }
        }
      }
      throw new MeshYamlException(r.source() + ": " + r.key() + ": " + path + ".targetPort \"" + name
          + "\" names no container port of a selected Deployment");
    }
    throw new MeshYamlException(r.source() + ": " + r.key() + ": " + path + ".targetPort must be a number or a port name");
  }

  private List<MeshService> serviceEntry(MeshResource r) {
    List<MeshService> out = new ArrayList<>();
    Map<String, String> selector = Map.of();
    if (SpecReader.asMap(r.spec().get("workloadSelector")) instanceof Map<String, Object> ws) {
      selector = strings(ws.get("labels"), r, "spec.workloadSelector.labels");
    }
    List<ServicePort> ports = new ArrayList<>();
    List<Map<String, Object>> list = maps(r.spec().get("ports"), r, "spec.ports");
    for (int i = 0; i < list.size(); i++) {
      Map<String, Object> p = list.get(i);
      if (!(p.get("number") instanceof Integer number)) {
        throw new MeshYamlException(r.source() + ": " + r.key() + ": spec.ports[" + i + "].number must be an integer");
      }
      String name = p.get("name") instanceof String n ? n : "";
      String protocol = p.get("protocol") instanceof String pr ? Protocols.parse(pr) : Protocols.select(name, null, null);
      ports.add(new ServicePort(name, number, p.get("targetPort") instanceof Integer t ? t : number, protocol));
    }
    List<?> declared = r.spec().get("addresses") instanceof List<?> a ? a : List.of();
    if (!(r.spec().get("hosts") instanceof List<?> hosts) || hosts.isEmpty()) {
      throw new MeshYamlException(r.source() + ": " + r.key() + ": spec.hosts must list at least one host");
    }
    for (Object h : hosts) {
      String host = String.valueOf(h);
      String vip = !declared.isEmpty() ? String.valueOf(declared.getFirst()) : addresses.serviceVip(host);
      out.add(new MeshService(host, r.namespace(), host, vip, ports, selector));
    }
    return out;
  }

  private static Map<String, Object> map(Map<String, Object> in, String key, MeshResource r, String path) {
    Map<String, Object> m = SpecReader.asMap(in.get(key));
    if (m == null) {
      throw new MeshYamlException(r.source() + ": " + r.key() + ": " + path + "." + key + " must be a mapping");
    }
    return m;
  }

  private static List<Map<String, Object>> maps(@Nullable Object v, MeshResource r, String path) {
    if (v == null) {
      return List.of();
    }
    List<Map<String, Object>> out = new ArrayList<>();
    if (v instanceof List<?> list) {
      for (Object o : list) {
        Map<String, Object> m = SpecReader.asMap(o);
        if (m == null) {
          throw new MeshYamlException(r.source() + ": " + r.key() + ": every entry of " + path + " must be a mapping");
        }
        out.add(m);
      }
      return out;
    }
    throw new MeshYamlException(r.source() + ": " + r.key() + ": " + path + " must be a list");
  }

  private static Map<String, String> strings(@Nullable Object v, MeshResource r, String path) {
    if (v == null) {
      return Map.of();
    }
    Map<String, Object> m = SpecReader.asMap(v);
    if (m == null) {
      throw new MeshYamlException(r.source() + ": " + r.key() + ": " + path + " must be a mapping");
    }
    Map<String, String> out = new LinkedHashMap<>();
    m.forEach((k, val) -> out.put(k, String.valueOf(val)));
    return java.util.Collections.unmodifiableMap(out);
  }
}
