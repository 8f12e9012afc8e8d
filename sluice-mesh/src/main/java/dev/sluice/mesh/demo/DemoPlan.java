package dev.sluice.mesh.demo;

import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.Workload;
import dev.sluice.mesh.server.SidecarBootstrap;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What the Bookinfo demo starts, from the registry: per workload a sidecar
 * ({@code sluice -c <pod>.json --concurrency 1}, ready when its admin {@code /ready} answers 200)
 * and the application ({@code sluice bookinfo <app> --version V --listen <appAddress>:<port>
 * --proxy <address>:15001}, ready when {@code /health} answers 200), and the ingress gateway's
 * proxy. Pure: nothing is started here.
 *
 * @param launcher {@code bin/sluice} of the distribution
 * @param dir where bootstraps and logs go
 * @param ads the control plane's ADS address
 */
public record DemoPlan(Path launcher, Path dir, InetSocketAddress ads) {
  /** The sidecar's outbound HTTP proxy port on the workload address (docs/mesh.md). */
  public static final int OUTBOUND_PROXY_PORT = 15001;

  /** A proxy's bootstrap and the file it is written to, which its command names. */
  public record ProxyConfig(SidecarBootstrap bootstrap, Path file) {}

  /** One process to start and how to tell it is ready; {@code proxy} is null for an app. */
  public record Child(String name, List<String> command, Map<String, String> env, Path log, URI ready,
      @Nullable ProxyConfig proxy) {
    public Child {
      command = List.copyOf(command);
      env = Map.copyOf(env);
    }
  }

  /**
   * The workloads that get a sidecar and an app: all but the ingress gateway ({@code istio=ingressgateway}),
   * which the registry may list as a workload and which is started as a gateway.
   */
  public static List<Workload> appWorkloads(ServiceRegistry registry) {
    return registry.workloads().stream().filter(w -> !"ingressgateway".equals(w.labels().get("istio"))).toList();
  }

  /** Sidecars first, then the apps, then the gateway; an app needs its sidecar to call others. */
  public List<Child> children(ServiceRegistry registry) {
    List<Child> sidecars = new ArrayList<>();
    List<Child> apps = new ArrayList<>();
    for (Workload w : appWorkloads(registry)) {
      SidecarBootstrap b = SidecarBootstrap.sidecar(w, ads);
      sidecars.add(proxy(w.podName() + " sidecar", w.podName(), b));
      apps.add(app(w, registry));
    }
    List<Child> all = new ArrayList<>(sidecars);
    all.addAll(apps);
    all.add(proxy("ingress gateway", "istio-ingressgateway", SidecarBootstrap.ingressGateway(ads)));
    return all;
  }

  private Child proxy(String name, String file, SidecarBootstrap b) {
    Path json = dir.resolve(file + ".json");
    return new Child(name, List.of(launcher.toString(), "-c", json.toString(), "--concurrency", "1"), Map.of(),
        dir.resolve(file + ".proxy.log"), URI.create("http://" + b.admin().getHostString() + ":" + b.admin().getPort() + "/ready"),
        new ProxyConfig(b, json));
  }

  private Child app(Workload w, ServiceRegistry registry) {
    String app = w.labels().getOrDefault("app", w.name());
    String version = w.labels().getOrDefault("version", "v1");
    int port = registry.services().stream()
        .filter(s -> !s.selector().isEmpty() && w.labels().entrySet().containsAll(s.selector().entrySet()))
        .map(MeshService::ports).filter(p -> !p.isEmpty()).map(p -> p.getFirst().targetPort())
        .findFirst().orElseThrow(() -> new IllegalArgumentException("no service selects workload " + w.name()));
    List<String> command = List.of(launcher.toString(), "bookinfo", app, "--version", version,
        "--listen", w.appAddress() + ":" + port, "--proxy", w.address() + ":" + OUTBOUND_PROXY_PORT);
    // The originals name their pod from HOSTNAME ("Reviews served by: reviews-v2-...").
    return new Child(w.podName() + " app", command, Map.of("HOSTNAME", w.podName()),
        dir.resolve(w.podName() + ".app.log"), URI.create("http://" + w.appAddress() + ":" + port + "/health"), null);
  }
}
