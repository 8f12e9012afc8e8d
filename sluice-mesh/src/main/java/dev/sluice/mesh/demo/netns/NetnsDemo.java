package dev.sluice.mesh.demo.netns;

import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshService;
import dev.sluice.mesh.model.MeshSources;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.ValidationMessage;
import dev.sluice.mesh.model.Workload;
import dev.sluice.mesh.server.LocalControlPlane;
import dev.sluice.mesh.server.MeshPlugins;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;

/**
 * {@code sluice demo bookinfo --netns}: Bookinfo in transparent mode, as on a Kubernetes node.
 * Every workload (and the ingress gateway) is a pod: its own network namespace on a bridge
 * ({@link PodNetwork}), the pod IP inside it, Istio's iptables rules (REDIRECT to 15001/15006,
 * uid 1337 exempt), {@code /etc/hosts} giving service names their VIPs, the Bookinfo app (no
 * proxy settings: it calls {@code http://reviews:9080} and iptables intercepts) as uid
 * {@value #APP_UID}, and its Sluice sidecar as uid {@value #PROXY_UID} with pilot-agent's command
 * line. The control plane runs in this process and serves ADS on a Unix domain socket as
 * pilot-agent does. {@code http://127.0.0.1:8080} on this machine is forwarded into the gateway's
 * namespace ({@link PortForward}). Everything is removed on exit, and leftovers of a killed run at
 * the next start.
 */
public final class NetnsDemo {
  static final int PROXY_UID = 1337;
  /** The apps run as an ordinary uid: iptables captures their traffic because it is not the proxy's. */
  static final int APP_UID = 1000;
  static final int GATEWAY_PORT = 8080;
  static final String GATEWAY_IP = "10.44.0.2";
  private static final int DEFAULT_API_PORT = 15014;
  private static final List<String> TOOLS = List.of("ip", "iptables-restore", "setpriv");
  /** pilot-agent's command line for the proxy (Istio's {@code proxy/envoy.go}). */
  private static final List<String> PILOT_AGENT_FLAGS = List.of("--drain-time-s", "45", "--drain-strategy", "immediate",
      "--local-address-ip-version", "v4", "--file-flush-interval-msec", "1000", "--disable-hot-restart",
      "--allow-unknown-static-fields", "-l", "warning", "--component-log-level", "misc:error", "--concurrency", "1");

  /**
   * What the demo command gives.
   *
   * @param launcher {@code bin/sluice}
   * @param bookinfo the Istio Bookinfo sample directory
   * @param dir where bootstraps, logs and the xDS socket go (default: a new temporary directory)
   * @param forwardPort the port on 127.0.0.1 forwarded to the gateway's 8080
   * @param childJvmOptions SLUICE_JVM_OPTS for the children when the environment has none
   * @param tasks the Bookinfo task files to print, with what each shows
   * @param command how to name the launcher in printed commands
   */
  public record Settings(Path launcher, Path bookinfo, @Nullable Path dir, int forwardPort, int adsPort, int apiPort, Duration timeout,
      List<String> childJvmOptions, Map<String, String> tasks, String command) {}

  /** One pod: its workload (addresses are the pod IP) and namespace. */
  private record Pod(Workload workload, String namespace, boolean gateway) {}

  private final Settings settings;
  private final PrintWriter out;
  private final PrintWriter err;
  private final PodProcesses processes = new PodProcesses();
  /** By namespace; the shutdown hook closes them. */
  private final Map<String, NamespaceDialer> dialers = new LinkedHashMap<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  // Set by the main thread, read by the shutdown hook.
  private volatile @Nullable LocalControlPlane controlPlane;
  private volatile @Nullable PodNetwork network;
  private volatile @Nullable PortForward forward;

  private NetnsDemo(Settings settings, PrintWriter out, PrintWriter err) {
    this.settings = settings;
    this.out = out;
    this.err = err;
  }

  /** Runs the demo until the process is stopped; returns the exit status (0 after Ctrl-C, 1 on failure). */
  public static int run(Settings settings, PrintWriter out, PrintWriter err) throws Exception {
    return new NetnsDemo(settings, out, err).run();
  }

  private int run() throws Exception {
    if (Libc.geteuid() != 0) {
      err.println("sluice demo: --netns needs root (network namespaces, iptables rules, the proxy as uid " + PROXY_UID
          + "); run it as root, or without --netns for explicit mode");
      return 1;
    }
    for (String tool : TOOLS) {
      if (!SystemCommands.onPath(tool)) {
        err.println("sluice demo: --netns needs `" + tool + "` (packages iproute2, iptables, util-linux); it is not installed");
        return 1;
      }
    }
    long t0 = System.nanoTime();
    List<String> leftovers;
    try {
      leftovers = PodNetwork.removeLeftovers();
    } catch (IllegalStateException e) {
      err.println("sluice demo: " + e.getMessage());
      return 1;
    }
    if (!leftovers.isEmpty()) {
      out.println("sluice demo: removed what an earlier run left: " + String.join(", ", leftovers));
    }
    MeshSources sources = MeshPlugins.sources();
    Path kube = settings.bookinfo().resolve("platform/kube/bookinfo.yaml");
    ServiceRegistry original = sources.registry(parse(sources, kube));
    List<Pod> pods = pods(original);
    ServiceRegistry registry = registry(original, pods);
    List<MeshResource> initial = new ArrayList<>(parse(sources, settings.bookinfo().resolve("networking/bookinfo-gateway.yaml")));
    initial.addAll(parse(sources, settings.bookinfo().resolve("networking/destination-rule-all.yaml")));

    // The proxies run as uid 1337: they must read their bootstraps and reach the xDS socket here.
    Path dir = settings.dir();
    Path work = (dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("sluice-demo-")).toAbsolutePath();
    Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
    for (Path d = work.getParent(); d != null; d = d.getParent()) {
      if (!Files.getPosixFilePermissions(d).contains(PosixFilePermission.OTHERS_EXECUTE)) {
        err.println("sluice demo: the proxies (uid " + PROXY_UID + ") cannot reach " + work + ": " + d
            + " is not searchable by others; give --dir elsewhere");
        return 1;
      }
    }
    Path xds = work.resolve("XDS");
    LocalControlPlane cp;
    try {
      cp = LocalControlPlane.start(MeshPlugins.translator(), sources, registry, initial,
          new InetSocketAddress("127.0.0.1", settings.adsPort()), new InetSocketAddress("127.0.0.1", settings.apiPort()));
    } catch (LocalControlPlane.InitialConfigException e) {
      e.result().messages().stream().map(ValidationMessage::toString).forEach(err::println);
      err.println("sluice demo: the Bookinfo resources do not validate; nothing started");
      return 1;
    } catch (UncheckedIOException e) {
      err.println("sluice demo: " + e.getMessage() + " (another demo or mesh running?)");
      return 1;
    }
    controlPlane = cp;
    Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "sluice-demo-stop"));
    cp.serveAdsOn(xds);
    out.printf("sluice demo: control plane up (ADS unix:%s and 127.0.0.1:%d, API http://127.0.0.1:%d)%n", xds, cp.adsPort(), cp.apiPort());
    out.printf("sluice demo: creating %d pods (network namespaces on bridge %s in %s)...%n", pods.size(), PodNetwork.BRIDGE, PodNetwork.NODE);
    out.flush();
    try {
      PodNetwork net = new PodNetwork();
      network = net;
      String rules = istioRules();
      String hosts = hosts(registry);
      for (Pod p : pods) {
        net.addPod(p.workload().podName(), p.workload().address());
        if (!p.gateway()) {
          net.iptables(p.namespace(), rules);
          net.hosts(p.namespace(), hosts);
        }
      }
      Pod gateway = pods.stream().filter(Pod::gateway).findFirst().orElseThrow();
      NamespaceDialer gatewayDialer = dialer(gateway.namespace());
      forward = PortForward.start(new InetSocketAddress("127.0.0.1", settings.forwardPort()),
          () -> gatewayDialer.connect(new InetSocketAddress("127.0.0.1", GATEWAY_PORT), Duration.ofSeconds(5)));
    } catch (IllegalStateException | UncheckedIOException e) {
      err.println("sluice demo: " + e.getMessage());
      return 1; // the shutdown hook removes what was made
    }

    List<Check> checks = new ArrayList<>();
    out.printf("sluice demo: starting %d processes (logs and bootstraps in %s)...%n", pods.size() * 2 - 1, work);
    out.flush();
    // Started from this thread, which lives until the end: see PodProcesses.
    for (Pod p : pods) {
      checks.add(proxy(p, work, xds));
    }
    for (Pod p : pods) {
      if (!p.gateway()) {
        checks.add(app(p, registry, work));
      }
    }
    String failure = new Readiness(out, t0).await(checks, URI.create(pageUrl()), settings.timeout());
    if (failure != null) {
      err.println("sluice demo: " + failure);
      return 1;
    }
    printReady(pods, work, t0);
    stopped.await();
    return 0;
  }

  /** The registry's workloads as pods, the gateway first at {@value #GATEWAY_IP}, the others at 10.44.1.1, 10.44.1.2, ... */
  private static List<Pod> pods(ServiceRegistry original) {
    List<Pod> pods = new ArrayList<>();
    int next = 1;
    for (Workload w : original.workloads()) {
      boolean gateway = "ingressgateway".equals(w.labels().get("istio"));
      String ip = gateway ? GATEWAY_IP : "10.44.1." + next++;
      Workload pod = new Workload(w.name(), w.namespace(), w.labels(), w.serviceAccount(), ip, ip);
      pods.add(gateway ? 0 : pods.size(), new Pod(pod, PodNetwork.namespace(w.podName()), gateway));
    }
    if (pods.isEmpty() || !pods.getFirst().gateway()) {
      throw new IllegalStateException("the registry has no ingress gateway workload");
    }
    return pods;
  }

  /** The registry with the pods' addresses: transparent mode's pod IPs (the app listens on the same address). */
  private static ServiceRegistry registry(ServiceRegistry original, List<Pod> pods) {
    return new ServiceRegistry(original.services(), pods.stream().map(Pod::workload).toList());
  }

  private static List<MeshResource> parse(MeshSources sources, Path file) throws IOException {
    return sources.parse(Files.readString(file), file.toString());
  }

  private static String istioRules() throws IOException {
    try (InputStream in = Objects.requireNonNull(NetnsDemo.class.getResourceAsStream("istio-iptables.rules"))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Every service's names (short ones for its namespace, as Kubernetes' search path makes them) at its VIP. */
  static String hosts(ServiceRegistry registry) {
    StringBuilder b = new StringBuilder("127.0.0.1 localhost\n");
    for (MeshService s : registry.services()) {
      b.append(s.vip()).append(' ').append(s.hostname());
      if (!s.hostname().equals(s.name())) {
        b.append(' ').append(s.name()).append(' ').append(s.name()).append('.').append(s.namespace())
            .append(' ').append(s.name()).append('.').append(s.namespace()).append(".svc");
      }
      b.append('\n');
    }
    return b.toString();
  }

  private NamespaceDialer dialer(String ns) {
    synchronized (dialers) {
      return dialers.computeIfAbsent(ns, NamespaceDialer::named);
    }
  }

  /** A started process and how to tell it is ready: {@code GET path} on the pod's 127.0.0.1:port answers 200. */
  private record Check(PodProcesses.Started started, NamespaceDialer dialer, int port, String path) {}

  private Check proxy(Pod p, Path work, Path xds) throws IOException {
    Workload w = p.workload();
    Path bootstrap = work.resolve(w.podName() + ".json");
    Files.writeString(bootstrap, PodBootstrap.json(PodBootstrap.of(w, p.gateway()), xds));
    Files.setPosixFilePermissions(bootstrap, PosixFilePermissions.fromString("rw-r--r--"));
    List<String> command = new ArrayList<>(List.of(settings.launcher().toString(), "-c", bootstrap.toString()));
    command.addAll(PILOT_AGENT_FLAGS);
    String name = p.gateway() ? "ingress gateway" : w.podName() + " sidecar";
    PodProcesses.Started s = processes.start(name, p.namespace(), PROXY_UID, command, childEnv(Map.of()), Path.of("/"),
        work.resolve(w.podName() + ".proxy.log"));
    return new Check(s, dialer(p.namespace()), PodBootstrap.ADMIN.getPort(), "/ready");
  }

  private Check app(Pod p, ServiceRegistry registry, Path work) {
    Workload w = p.workload();
    int port = registry.services().stream()
        .filter(s -> !s.selector().isEmpty() && w.labels().entrySet().containsAll(s.selector().entrySet()))
        .flatMap(s -> s.ports().stream()).map(sp -> sp.targetPort()).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no service selects workload " + w.name()));
    List<String> command = List.of(settings.launcher().toString(), "bookinfo", w.labels().getOrDefault("app", w.name()),
        "--version", w.labels().getOrDefault("version", "v1"), "--listen", "0.0.0.0:" + port);
    // The originals name their pod from HOSTNAME ("Reviews served by: reviews-v2-...").
    PodProcesses.Started s = processes.start(w.podName() + " app", p.namespace(), APP_UID, command,
        childEnv(Map.of("HOSTNAME", w.podName())), Path.of("/"), work.resolve(w.podName() + ".app.log"));
    return new Check(s, dialer(p.namespace()), port, "/health");
  }

  private Map<String, String> childEnv(Map<String, String> extra) {
    Map<String, String> env = new LinkedHashMap<>(extra);
    if (System.getenv("SLUICE_JVM_OPTS") == null && !settings.childJvmOptions().isEmpty()) {
      env.put("SLUICE_JVM_OPTS", String.join(" ", settings.childJvmOptions()));
    }
    return env;
  }

  private String pageUrl() {
    return "http://127.0.0.1:" + settings.forwardPort() + "/productpage";
  }

  private void printReady(List<Pod> pods, Path work, long t0) {
    LocalControlPlane cp = Objects.requireNonNull(controlPlane);
    String sluice = settings.command();
    // The CLI's default server is the default API port.
    String server = settings.apiPort() == DEFAULT_API_PORT ? "" : " --server http://127.0.0.1:" + cp.apiPort();
    out.println();
    out.printf("Bookinfo is ready in transparent mode (%.1f s): %s%n", (System.nanoTime() - t0) / 1e9, pageUrl());
    out.printf("         (127.0.0.1:%d is forwarded to %d in the gateway's namespace %s)%n", settings.forwardPort(), GATEWAY_PORT,
        pods.getFirst().namespace());
    out.println();
    out.println("Pods (network namespaces; the apps run as uid " + APP_UID + ", the proxies as uid " + PROXY_UID + "):");
    for (Pod p : pods) {
      out.printf("  %-22s %-10s %s%n", p.workload().podName(), p.workload().address(), p.namespace());
    }
    out.println("Admin:   ip netns exec <namespace> curl -s http://127.0.0.1:15000/<path>, e.g.");
    for (Pod p : pods) {
      out.printf("  ip netns exec %s curl -s http://127.0.0.1:15000/%s%n", p.namespace(), p.gateway() ? "config_dump" : "clusters");
    }
    out.printf("Mesh:    %s status%s   |   %s get%s%n", sluice, server, sluice, server);
    out.println("Logs:    " + work);
    out.println();
    out.println("Bookinfo tasks (sign in at the page's top right as jason for the user-based ones):");
    settings.tasks().forEach((file, what) -> {
      out.printf("  %s apply%s -f %s%n", sluice, server, settings.bookinfo().resolve("networking").resolve(file));
      out.printf("      %s%n", what);
    });
    out.printf("Undo a task with `%s delete%s -f FILE`. Ctrl-C stops everything and removes the namespaces.%n", sluice, server);
    out.flush();
  }

  /** The shutdown hook: processes by pid, the forward, the control plane, then the namespaces and their /etc/netns files. */
  private void stop() {
    out.println();
    out.println("sluice demo: stopping " + processes.count() + " processes, the control plane and the pods' namespaces...");
    out.flush();
    try {
      processes.stopAll();
      PortForward f = forward;
      if (f != null) {
        f.close();
      }
      synchronized (dialers) {
        dialers.values().forEach(NamespaceDialer::close);
      }
      LocalControlPlane cp = controlPlane;
      if (cp != null) {
        cp.close();
      }
      PodNetwork net = network;
      if (net != null) {
        net.close();
      }
    } finally {
      stopped.countDown();
    }
  }

  /** Waits for every process's readiness check, then the page through the forward and the gateway, printing progress. */
  private record Readiness(PrintWriter out, long t0) {
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(2);

    @Nullable String await(List<Check> checks, URI page, Duration timeout) throws InterruptedException {
      List<Check> pending = new ArrayList<>(checks);
      long deadline = System.nanoTime() + timeout.toNanos();
      int total = checks.size() + 1;
      try (HttpClient http = HttpClient.newBuilder().connectTimeout(CHECK_TIMEOUT).build();
          ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        while (System.nanoTime() < deadline) {
          for (Check c : pending) {
            if (!c.started().process().isAlive()) {
              return c.started().name() + " exited with code " + c.started().process().exitValue() + "; see " + c.started().log();
            }
          }
          // Every pending check at once: one slow answer must not delay the rest.
          Map<Check, CompletableFuture<Boolean>> results = new LinkedHashMap<>();
          pending.forEach(c -> results.put(c, CompletableFuture.supplyAsync(() -> c.dialer().httpStatus(c.port(), c.path(), CHECK_TIMEOUT) == 200, pool)));
          boolean pageOk = pending.isEmpty() && pageAnswers(http, page);
          for (var e : results.entrySet()) {
            if (e.getValue().join()) {
              pending.remove(e.getKey());
              progress(total - pending.size() - 1, total, e.getKey().started().name() + " ready");
            }
          }
          if (pageOk) {
            progress(total, total, "productpage through the gateway answers 200");
            return null;
          }
          Thread.sleep(200);
        }
      }
      return pending.isEmpty() ? page + " did not answer 200 within " + timeout.toSeconds() + " s"
          : "not ready within " + timeout.toSeconds() + " s: " + String.join(", ", pending.stream().map(c -> c.started().name()).toList());
    }

    private static boolean pageAnswers(HttpClient http, URI page) throws InterruptedException {
      try {
        return http.send(HttpRequest.newBuilder(page).timeout(CHECK_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.discarding())
            .statusCode() == 200;
      } catch (IOException e) {
        return false;
      }
    }

    private void progress(int done, int total, String what) {
      out.printf("  [%2d/%d] %5.1f s  %s%n", done, total, (System.nanoTime() - t0) / 1e9, what);
      out.flush();
    }
  }
}
