package dev.sluice.mesh.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.sluice.mesh.model.MeshResource;
import dev.sluice.mesh.model.MeshSources;
import dev.sluice.mesh.model.ServiceRegistry;
import dev.sluice.mesh.model.ValidationMessage;
import dev.sluice.mesh.server.LocalControlPlane;
import dev.sluice.mesh.server.MeshPlugins;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice mesh|apply|delete|get|status}: the local control plane and the commands that talk
 * to it over its HTTP API. Exit codes: 0 done; 1 failed (validation errors, one per line, and
 * nothing applied; control plane unreachable; unreadable file), with a one-line reason; 2 usage.
 */
@Command(name = "sluice", mixinStandardHelpOptions = true,
    description = "The local mesh control plane and its commands.",
    subcommands = {MeshCli.Mesh.class, MeshCli.Apply.class, MeshCli.Delete.class, MeshCli.Get.class, MeshCli.Status.class})
public final class MeshCli {
  static final String DEFAULT_SERVER = "http://127.0.0.1:15014";

  public static void main(String[] args) {
    System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs one command line; returns the exit code. */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new MeshCli());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      commandLine.getErr().println("sluice " + commandLine.getCommandName() + ": " + e.getMessage());
      return 1;
    });
    return cl.execute(args);
  }

  /** A failure reported as one line, exit 1. */
  public static final class Failure extends Exception {
    Failure(String message) {
      super(message);
    }
  }

  static final class ServerOption {
    @Option(names = "--server", paramLabel = "URL", defaultValue = DEFAULT_SERVER,
        description = "the control plane's API (default: ${DEFAULT-VALUE})")
    URI server;

    MeshApiClient client() {
      return new MeshApiClient(server);
    }
  }

  /** The YAML files a {@code -f} names: the file, or a directory's {@code *.yaml}/{@code *.yml} in name order. */
  static List<Path> yamlFiles(List<Path> given) throws Failure {
    List<Path> out = new ArrayList<>();
    for (Path p : given) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.list(p)) {
          List<Path> inDir = s.filter(f -> f.getFileName().toString().matches(".*\\.ya?ml")).sorted().toList();
          if (inDir.isEmpty()) {
            throw new Failure(p + ": no .yaml files in this directory");
          }
          out.addAll(inDir);
        } catch (IOException e) {
          throw new Failure(p + ": " + e.getMessage());
        }
      } else if (Files.isRegularFile(p)) {
        out.add(p);
      } else {
        throw new Failure(p + ": no such file or directory");
      }
    }
    return out;
  }

  static List<MeshApiClient.SourceFile> read(List<Path> files) throws Failure {
    List<MeshApiClient.SourceFile> out = new ArrayList<>();
    for (Path p : yamlFiles(files)) {
      try {
        out.add(new MeshApiClient.SourceFile(p, Files.readString(p)));
      } catch (NoSuchFileException e) {
        throw new Failure(p + ": no such file");
      } catch (IOException e) {
        throw new Failure(p + ": " + e.getMessage());
      }
    }
    return out;
  }

  /** Applies or deletes: prints each change, or each validation message and exits 1 when rejected. */
  abstract static class Change implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin ServerOption server;

    abstract List<Path> files();

    abstract String path();

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      String name = spec.name();
      try {
        MeshApiClient.Answer a = server.client().post(path(), read(files()));
        if (a.status() == 422) {
          a.json().getAsJsonArray("messages").forEach(m -> err.println(m.getAsJsonObject().get("text").getAsString()));
          err.println("sluice " + name + ": rejected, nothing " + (name.equals("apply") ? "applied" : "deleted")
              + " (version " + a.json().get("version").getAsLong() + " stays in force)");
          return 1;
        }
        if (!a.ok()) {
          throw new Failure(a.error());
        }
        a.json().getAsJsonArray("changes").forEach(c -> out.println(c.getAsString()));
        a.json().getAsJsonArray("messages").forEach(m -> err.println(m.getAsJsonObject().get("text").getAsString()));
        out.println("version " + a.json().get("version").getAsLong());
        return 0;
      } catch (Failure | MeshApiClient.ApiException e) {
        err.println("sluice " + name + ": " + e.getMessage());
        return 1;
      }
    }
  }

  @Command(name = "apply", description = "Add or replace Istio resources from YAML files (all together or none).")
  static final class Apply extends Change {
    @Option(names = "-f", required = true, paramLabel = "FILE|DIR", description = "a YAML file, or a directory of them")
    List<Path> files;

    @Override
    List<Path> files() {
      return files;
    }

    @Override
    String path() {
      return "/apply";
    }
  }

  @Command(name = "delete", description = "Remove the resources the YAML files name (kind, namespace, name).")
  static final class Delete extends Change {
    @Option(names = "-f", required = true, paramLabel = "FILE|DIR", description = "a YAML file, or a directory of them")
    List<Path> files;

    @Override
    List<Path> files() {
      return files;
    }

    @Override
    String path() {
      return "/delete";
    }
  }

  @Command(name = "get", description = "List the resources in force (of one KIND: VirtualService, vs, destinationrules, ...).")
  static final class Get implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin ServerOption server;

    @Parameters(arity = "0..1", paramLabel = "KIND")
    String kind;

    @Option(names = "-o", paramLabel = "FORMAT", description = "json: the resources with their specs")
    String output;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      try {
        MeshApiClient.Answer a = server.client().get("/resources" + (kind == null ? "" : "?kind=" + kind));
        if (!a.ok()) {
          throw new Failure(a.error());
        }
        if ("json".equals(output)) {
          out.println(new GsonBuilder().setPrettyPrinting().create().toJson(a.json()));
          return 0;
        }
        var resources = a.json().getAsJsonArray("resources");
        if (resources.isEmpty()) {
          out.println("No resources found (version " + a.json().get("version").getAsLong() + ").");
          return 0;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAMESPACE", "KIND", "NAME", "SOURCE"});
        for (JsonElement e : resources) {
          JsonObject r = e.getAsJsonObject();
          rows.add(new String[] {r.get("namespace").getAsString(), r.get("kind").getAsString(),
              r.get("name").getAsString(), r.get("source").getAsString()});
        }
        Table.print(out, rows);
        return 0;
      } catch (Failure | MeshApiClient.ApiException e) {
        spec.commandLine().getErr().println("sluice get: " + e.getMessage());
        return 1;
      }
    }
  }

  @Command(name = "status", description = "Every connected proxy and what it ACKed, as istioctl proxy-status.")
  static final class Status implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;
    @Mixin ServerOption server;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      try {
        MeshApiClient.Answer a = server.client().get("/status");
        if (!a.ok()) {
          throw new Failure(a.error());
        }
        StatusTable.print(out, a.json());
        return 0;
      } catch (Failure | MeshApiClient.ApiException e) {
        spec.commandLine().getErr().println("sluice status: " + e.getMessage());
        return 1;
      }
    }
  }

  @Command(name = "mesh", description = "Run the local control plane in the foreground (Ctrl-C stops it).")
  static final class Mesh implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--registry", paramLabel = "FILE|DIR",
        description = "Kubernetes Service/Deployment YAML (such as bookinfo.yaml): the services and workloads")
    List<Path> registry = new ArrayList<>();

    @Option(names = "-f", paramLabel = "FILE|DIR", description = "Istio resources to apply at start")
    List<Path> files = new ArrayList<>();

    @Option(names = "--ads-port", defaultValue = "15010", description = "ADS (SotW and Delta) on 127.0.0.1 (default: ${DEFAULT-VALUE})")
    int adsPort;

    @Option(names = "--api-port", defaultValue = "15014", description = "the HTTP API on 127.0.0.1 (default: ${DEFAULT-VALUE})")
    int apiPort;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      LocalControlPlane cp;
      try {
        cp = start(MeshPlugins.sources(), registry, files, adsPort, apiPort, err);
      } catch (Failure | RuntimeException e) {
        err.println("sluice mesh: " + e.getMessage());
        return 1;
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        cp.close();
        stopped.countDown();
      }, "sluice-mesh-stop"));
      var state = cp.controlPlane().state();
      out.println("sluice mesh: " + state.registry().services().size() + " services, "
          + state.registry().workloads().size() + " workloads, " + state.resources().size()
          + " resources (version " + state.version() + ")");
      out.println("sluice mesh: ADS (SotW and Delta) on 127.0.0.1:" + cp.adsPort() + ", API on http://127.0.0.1:"
          + cp.apiPort() + "; Ctrl-C stops");
      stopped.await();
      return 0;
    }
  }

  /**
   * Starts the local control plane from registry and resource files with the class path's
   * translator; the initial resources' validation errors are printed to {@code err}.
   */
  public static LocalControlPlane start(MeshSources sources, List<Path> registryFiles, List<Path> resourceFiles,
      int adsPort, int apiPort, PrintWriter err) throws Failure {
    ServiceRegistry registry = sources.registry(parse(sources, registryFiles));
    try {
      return LocalControlPlane.start(MeshPlugins.translator(), sources, registry, parse(sources, resourceFiles),
          new InetSocketAddress("127.0.0.1", adsPort), new InetSocketAddress("127.0.0.1", apiPort));
    } catch (LocalControlPlane.InitialConfigException e) {
      e.result().messages().stream().map(ValidationMessage::toString).forEach(err::println);
      throw new Failure("the initial resources have errors; nothing started");
    }
  }

  static List<MeshResource> parse(MeshSources sources, List<Path> files) throws Failure {
    List<MeshResource> out = new ArrayList<>();
    for (MeshApiClient.SourceFile f : read(files)) {
      out.addAll(sources.parse(f.yaml(), f.path().toString()));
    }
    return out;
  }
}
