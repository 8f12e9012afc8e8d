package dev.sluice.mesh.demo;

import dev.sluice.mesh.demo.netns.NetnsDemo;
import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshSources;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.ValidationMessage;
import dev.sluice.mesh.model.Workload;
import dev.sluice.mesh.server.LocalControlPlane;
import dev.sluice.mesh.server.MeshPlugins;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice demo bookinfo}: Bookinfo on this machine with a Sluice sidecar beside every
 * workload and a Sluice ingress gateway, driven by the local control plane (in this process) from
 * the Istio sample's own YAML: {@code platform/kube/bookinfo.yaml} is the registry,
 * {@code networking/bookinfo-gateway.yaml} and {@code destination-rule-all.yaml} are applied, so
 * {@code http://127.0.0.1:8080/productpage} answers and every routing task can be applied with
 * {@code sluice apply -f}. Ctrl-C stops every process it started.
 */
@Command(name = "sluice demo", mixinStandardHelpOptions = true,
    description = "Run Bookinfo in a local mesh of Sluice sidecars (explicit mode: no root needed).")
public final class DemoMain implements Callable<Integer> {
  /** The routing tasks printed at the end, with what each shows. */
  private static final Map<String, String> TASKS = tasks();
  private static final String GATEWAY_URL = "http://127.0.0.1:8080/productpage";
  /**
   * The children are many small JVMs starting at once on a few cores: C1 only (no C2 compile
   * storm at start-up) and a capped heap. Used when SLUICE_JVM_OPTS is not set.
   */
  private static final List<String> CHILD_JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-Xmx96m");

  @Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DEMO", description = "bookinfo")
  String demo;

  @Option(names = "--netns", description = "transparent mode: every workload in its own network namespace (root)")
  boolean netns;

  @Option(names = "--dir", paramLabel = "DIR", description = "where bootstraps and logs go (default: a new temporary directory)")
  @Nullable Path dir;

  @Option(names = "--istio-dir", paramLabel = "DIR",
      description = "the Istio sample data (holding bookinfo/ or being it; default: shared/istio found above the checkout)")
  @Nullable Path istioDir;

  @Option(names = "--timeout", defaultValue = "120", paramLabel = "SECONDS",
      description = "how long to wait for everything to be ready (default: ${DEFAULT-VALUE})")
  int timeoutSeconds;

  @Option(names = "--forward-port", defaultValue = "8080", paramLabel = "PORT",
      description = "with --netns: the port on 127.0.0.1 forwarded into the ingress gateway's namespace (default: ${DEFAULT-VALUE})")
  int forwardPort;

  @Option(names = "--ads-port", defaultValue = "15010", description = "the control plane's ADS port (default: ${DEFAULT-VALUE})")
  int adsPort;

  @Option(names = "--api-port", defaultValue = "15014", description = "the control plane's API port (default: ${DEFAULT-VALUE})")
  int apiPort;

  public static void main(String[] args) {
    CommandLine cl = new CommandLine(new DemoMain());
    cl.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      commandLine.getErr().println("sluice demo: " + e.getMessage());
      return 1;
    });
    int code = cl.execute(args);
    System.exit(code);
  }

  private static Map<String, String> tasks() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("virtual-service-all-v1.yaml", "every service to v1: no stars");
    m.put("virtual-service-reviews-50-v3.yaml", "reviews: half v1 (no stars), half v3 (red stars)");
    m.put("virtual-service-reviews-80-20.yaml", "reviews: 80% v1, 20% v2 (black stars)");
    m.put("virtual-service-reviews-90-10.yaml", "reviews: 90% v1, 10% v2");
    m.put("virtual-service-reviews-v3.yaml", "reviews: all v3 (red stars)");
    m.put("virtual-service-reviews-test-v2.yaml", "sign in as jason: black stars; others: none");
    m.put("virtual-service-reviews-jason-v2-v3.yaml", "jason: v2 (black); others: v3 (red)");
    m.put("virtual-service-ratings-test-delay.yaml", "jason: ratings delayed 7 s: \"Error fetching product reviews\"");
    m.put("virtual-service-ratings-test-abort.yaml", "jason: ratings abort 500: \"Ratings service is currently unavailable\"");
    return m;
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!demo.equals("bookinfo")) {
      err.println("sluice demo: unknown demo '" + demo + "' (there is: bookinfo; `./sluice demo` alone runs the front proxy)");
      return 2;
    }
    Path launcher;
    Path bookinfo;
    try {
      launcher = DemoPaths.launcher();
      bookinfo = DemoPaths.bookinfo(istioDir, launcher);
    } catch (IllegalStateException e) {
      err.println("sluice demo: " + e.getMessage());
      return 1;
    }
    if (netns) {
      return NetnsDemo.run(new NetnsDemo.Settings(launcher, bookinfo, dir, forwardPort, adsPort, apiPort,
          Duration.ofSeconds(timeoutSeconds), CHILD_JVM_OPTIONS, TASKS, DemoPaths.commandName()), out, err);
    }
    Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("sluice-demo-");
    long t0 = System.nanoTime();

    MeshSources sources = MeshPlugins.sources();
    ServiceRegistry registry = sources.registry(parse(sources, bookinfo.resolve("platform/kube/bookinfo.yaml")));
    List<MeshResource> initial = new ArrayList<>(parse(sources, bookinfo.resolve("networking/bookinfo-gateway.yaml")));
    initial.addAll(parse(sources, bookinfo.resolve("networking/destination-rule-all.yaml")));
    DemoPlan plan = new DemoPlan(launcher, work, new InetSocketAddress("127.0.0.1", adsPort));
    List<DemoPlan.Child> children = plan.children(registry);

    String busy = busyPort(registry);
    if (busy != null) {
      err.println("sluice demo: " + busy + " is in use (another demo or mesh running?); stop it first");
      return 1;
    }
    LocalControlPlane cp;
    try {
      cp = LocalControlPlane.start(MeshPlugins.translator(), sources, registry, initial,
          new InetSocketAddress("127.0.0.1", adsPort), new InetSocketAddress("127.0.0.1", apiPort));
    } catch (LocalControlPlane.InitialConfigException e) {
      e.result().messages().stream().map(ValidationMessage::toString).forEach(err::println);
      err.println("sluice demo: the Bookinfo resources do not validate; nothing started");
      return 1;
    }
    ChildProcesses processes = new ChildProcesses();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      out.println();
      out.println("sluice demo: stopping " + processes.count() + " processes and the control plane...");
      out.flush();
      processes.stopAll();
      cp.close();
      stopped.countDown();
    }, "sluice-demo-stop"));

    out.printf("sluice demo: control plane up (ADS 127.0.0.1:%d, API http://127.0.0.1:%d); %d workloads from %s%n",
        cp.adsPort(), cp.apiPort(), DemoPlan.appWorkloads(registry).size(), bookinfo.resolve("platform/kube/bookinfo.yaml"));
    out.printf("sluice demo: starting %d processes (logs and bootstraps in %s)...%n", children.size(), work);
    out.flush();
    List<ChildProcesses.Started> started = new ArrayList<>();
    for (DemoPlan.Child c : children) {
      if (c.proxy() != null) {
        Files.writeString(c.proxy().file(), c.proxy().bootstrap().json());
      }
      // Started from this (main) thread, which lives until the end: see ChildProcesses.
      started.add(processes.start(c, work, System.getenv("SLUICE_JVM_OPTS") == null ? CHILD_JVM_OPTIONS : List.of()));
    }
    DemoPlan.Child gateway = children.getLast(); // DemoPlan starts the gateway last
    String failure = new Readiness(out, t0, gateway).await(started, URI.create(GATEWAY_URL), Duration.ofSeconds(timeoutSeconds));
    if (failure != null) {
      err.println("sluice demo: " + failure);
      return 1; // the shutdown hook stops what was started
    }
    printReady(out, cp, registry, bookinfo, work, t0);
    stopped.await();
    return 0;
  }

  private static List<MeshResource> parse(MeshSources sources, Path file) throws IOException {
    return sources.parse(Files.readString(file), file.toString());
  }

  /** The first address the demo needs that something else holds, or null. */
  private @Nullable String busyPort(ServiceRegistry registry) {
    List<InetSocketAddress> needed = new ArrayList<>(List.of(
        new InetSocketAddress("127.0.0.1", adsPort), new InetSocketAddress("127.0.0.1", apiPort),
        new InetSocketAddress("127.0.0.1", 8080), new InetSocketAddress("127.0.0.1", 15000)));
    for (Workload w : DemoPlan.appWorkloads(registry)) {
      needed.add(new InetSocketAddress(w.address(), 15000));
      needed.add(new InetSocketAddress(w.address(), DemoPlan.OUTBOUND_PROXY_PORT));
    }
    for (InetSocketAddress a : needed) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(a);
      } catch (IOException e) {
        return a.getHostString() + ":" + a.getPort();
      }
    }
    return null;
  }

  private void printReady(PrintWriter out, LocalControlPlane cp, ServiceRegistry registry, Path bookinfo, Path work, long t0) {
    String sluice = DemoPaths.commandName();
    out.println();
    out.printf("Bookinfo is ready (%.1f s): %s%n", (System.nanoTime() - t0) / 1e9, GATEWAY_URL);
    out.println();
    out.println("Admin:   istio-ingressgateway   http://127.0.0.1:15000/");
    for (Workload w : DemoPlan.appWorkloads(registry)) {
      out.printf("         %-22s http://%s:15000/%n", w.podName(), w.address());
    }
    out.printf("Mesh:    %s status   |   %s get   (control plane API http://127.0.0.1:%d)%n", sluice, sluice, cp.apiPort());
    out.println("Logs:    " + work);
    out.println();
    out.println("Bookinfo tasks (sign in at the page's top right as jason for the user-based ones):");
    TASKS.forEach((file, what) -> {
      out.printf("  %s apply -f %s%n", sluice, bookinfo.resolve("networking").resolve(file));
      out.printf("      %s%n", what);
    });
    out.printf("Undo a task with `%s delete -f FILE`. Ctrl-C stops everything.%n", sluice);
    out.flush();
  }

  /**
   * Waits for every child's readiness URL, then the page through the gateway, printing progress.
   * The page counts only once the gateway has its own listener on the page's port: a ready
   * gateway whose listener could not bind (the port taken since the start-up check, e.g. by
   * another demo) would otherwise pass the check with someone else's page.
   */
  private record Readiness(PrintWriter out, long t0, DemoPlan.Child gateway) {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    private static final Pattern CREATE_FAILURES = Pattern.compile("listener_manager\\.listener_create_failure: (\\d+)");

    @Nullable String await(List<ChildProcesses.Started> children, URI page, Duration timeout) throws InterruptedException {
      List<ChildProcesses.Started> pending = new ArrayList<>(children);
      long deadline = System.nanoTime() + timeout.toNanos();
      int total = children.size() + 1;
      while (System.nanoTime() < deadline) {
        for (ChildProcesses.Started s : pending) {
          if (!s.process().isAlive()) {
            return s.child().name() + " exited with code " + s.process().exitValue() + "; see " + s.child().log();
          }
        }
        // Every pending check at once: a loaded machine answers slowly, and one slow answer must not delay the rest.
        Map<ChildProcesses.Started, CompletableFuture<Boolean>> checks = new LinkedHashMap<>();
        pending.forEach(s -> checks.put(s, ok(s.child().ready())));
        if (pending.isEmpty() && listenerCreateFailures() > 0) {
          return "the ingress gateway could not open its listener for " + page.getHost() + ":" + page.getPort()
              + " (taken by another process?); see " + gateway.log();
        }
        CompletableFuture<Boolean> pageCheck = pending.isEmpty() && gatewayListens(page)
            ? ok(page) : CompletableFuture.completedFuture(false);
        for (var e : checks.entrySet()) {
          if (e.getValue().join()) {
            pending.remove(e.getKey());
            progress(total - pending.size() - 1, total, e.getKey().child().name() + " ready");
          }
        }
        if (pageCheck.join()) {
          progress(total, total, "productpage through the gateway answers 200");
          return null;
        }
        Thread.sleep(200);
      }
      return pending.isEmpty() ? page + " did not answer 200 within " + timeout.toSeconds() + " s"
          : "not ready within " + timeout.toSeconds() + " s: " + String.join(", ", pending.stream().map(s -> s.child().name()).toList());
    }

    private void progress(int done, int total, String what) {
      out.printf("  [%2d/%d] %5.1f s  %s%n", done, total, (System.nanoTime() - t0) / 1e9, what);
      out.flush();
    }

    /** The gateway's {@code listener_manager.listener_create_failure}: a listener it could not bind. */
    private long listenerCreateFailures() throws InterruptedException {
      String stats = adminGet("stats?filter=listener_manager.listener_create_failure");
      Matcher m = CREATE_FAILURES.matcher(stats);
      return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    /** True when the gateway's {@code /listeners} shows a listener bound to the page's address. */
    private boolean gatewayListens(URI page) throws InterruptedException {
      return adminGet("listeners").lines().anyMatch(l -> l.endsWith("::" + page.getHost() + ":" + page.getPort()));
    }

    private String adminGet(String pathAndQuery) throws InterruptedException {
      try {
        return HTTP.send(HttpRequest.newBuilder(gateway.ready().resolve("/" + pathAndQuery)).timeout(Duration.ofSeconds(2)).GET().build(),
            HttpResponse.BodyHandlers.ofString()).body();
      } catch (IOException e) {
        return "";
      }
    }

    private static CompletableFuture<Boolean> ok(URI uri) {
      return HTTP.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).GET().build(),
              HttpResponse.BodyHandlers.discarding())
          .handle((r, e) -> e == null && r.statusCode() == 200);
    }
  }
}
