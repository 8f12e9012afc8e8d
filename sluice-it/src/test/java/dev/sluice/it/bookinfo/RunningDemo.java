package dev.sluice.it.bookinfo;

import dev.sluice.it.Distribution;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/sluice demo bookinfo} as a child process of the test: its output is copied to
 * {@code demo.out} in its work directory while a reader watches for the "Bookinfo is ready" line.
 * Stopped by its pid ({@link #stop}), as Ctrl-C would: the demo stops its own children.
 */
final class RunningDemo implements AutoCloseable {
  private static final Pattern READY = Pattern.compile("^Bookinfo is ready (?:in transparent mode )?\\(([0-9.]+) s\\)");
  private static final Pattern ADMIN_LINE = Pattern.compile("^\\[([0-9-]+ [0-9:.]+)\\].*admin address:", Pattern.MULTILINE);
  private static final Pattern READY_IN = Pattern.compile("^\\[([0-9-]+ [0-9:.]+)\\].*sluice ready in", Pattern.MULTILINE);

  private final Process process;
  private final Path dir;
  private final long startNanos = System.nanoTime();
  private final CompletableFuture<Double> ready = new CompletableFuture<>();
  private final List<String> progress = new ArrayList<>();
  private final Thread reader;
  private volatile long readyNanos;

  private RunningDemo(Process process, Path dir) {
    this.process = process;
    this.dir = dir;
    this.reader = Thread.ofPlatform().daemon().name("demo-output").start(this::copyOutput);
  }

  /**
   * Starts the demo with its bootstraps and logs in {@code dir}, its control plane on the given
   * ports, and {@code modeOptions} (e.g. {@code --netns}) after the common ones.
   */
  static RunningDemo start(Path dir, Duration timeout, int adsPort, int apiPort, List<String> modeOptions) throws IOException {
    List<String> command = new ArrayList<>(List.of(Distribution.launcher().toString(), "demo", "bookinfo",
        "--dir", dir.toString(), "--timeout", Long.toString(timeout.toSeconds()),
        "--istio-dir", Distribution.istioData().toString(),
        "--ads-port", Integer.toString(adsPort), "--api-port", Integer.toString(apiPort)));
    command.addAll(modeOptions);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    return new RunningDemo(p, dir);
  }

  /**
   * Waits for the ready line; returns the demo's own figure in seconds. Fails with the demo's
   * output when it exits first or {@code timeout} passes.
   */
  double awaitReady(Duration timeout) throws Exception {
    try {
      return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("the demo was not ready within " + timeout + ":\n" + output());
    } catch (java.util.concurrent.ExecutionException e) {
      throw new AssertionError(e.getCause().getMessage());
    }
  }

  /** Seconds from starting the process to its ready line, as the test saw them. */
  double wallSecondsToReady() {
    return (readyNanos - startNanos) / 1e9;
  }

  /** The demo's progress lines ({@code [ n/14]  t s  what}) up to ready. */
  synchronized List<String> progress() {
    return List.copyOf(progress);
  }

  Path dir() {
    return dir;
  }

  String output() {
    try {
      return Files.readString(dir.resolve("demo.out"));
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  private void copyOutput() {
    try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
         var out = new PrintWriter(Files.newBufferedWriter(dir.resolve("demo.out")), true)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        out.println(line);
        if (line.startsWith("  [")) {
          synchronized (this) {
            progress.add(line.strip());
          }
        }
        Matcher m = READY.matcher(line);
        if (m.find()) {
          readyNanos = System.nanoTime();
          ready.complete(Double.parseDouble(m.group(1)));
        }
      }
    } catch (IOException e) {
      ready.completeExceptionally(new UncheckedIOException(e));
    }
    ready.completeExceptionally(new IllegalStateException(
        "the demo exited before it was ready (code " + process.onExit().join().exitValue() + "):\n" + output()));
  }

  /**
   * Where a proxy's start-up time goes, from its log and its process start: JVM start to the admin
   * listening (JVM boot and class loading, on CPU shared by every child), then admin to ready
   * (the xDS connection and the first configuration). Medians over the demo's proxies.
   */
  String proxyStartupBreakdown() {
    List<Double> boot = new ArrayList<>();
    List<Double> xds = new ArrayList<>();
    for (ProcessHandle child : children()) {
      String[] args = child.info().arguments().orElse(new String[0]);
      int c = List.of(args).indexOf("-c");
      var started = child.info().startInstant();
      if (c < 0 || c + 1 >= args.length || started.isEmpty()) {
        continue;
      }
      String name = Path.of(args[c + 1]).getFileName().toString().replace(".json", "");
      try {
        String log = Files.readString(dir.resolve(name + ".proxy.log"));
        Matcher admin = ADMIN_LINE.matcher(log);
        Matcher ready = READY_IN.matcher(log);
        if (admin.find() && ready.find()) {
          var adminAt = LocalDateTime.parse(admin.group(1).replace(' ', 'T'))
              .atZone(ZoneId.systemDefault()).toInstant();
          boot.add(Duration.between(started.get(), adminAt).toMillis() / 1e3);
          var readyAt = LocalDateTime.parse(ready.group(1).replace(' ', 'T'))
              .atZone(ZoneId.systemDefault()).toInstant();
          xds.add(Duration.between(adminAt, readyAt).toMillis() / 1e3);
        }
      } catch (IOException | RuntimeException e) {
        // a log not written yet: left out of the medians
      }
    }
    if (boot.isEmpty()) {
      // pilot-agent's command line (the --netns demo's) sets -l warning: no start-up lines.
      return "proxies: no start-up lines in their logs";
    }
    return String.format("proxies (%d): JVM start to admin listening median %.1f s, admin to ready (xDS) median %.1f s",
        boot.size(), median(boot), median(xds));
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  /** The processes the demo started (sidecars, apps, gateway). */
  List<ProcessHandle> children() {
    return process.children().toList();
  }

  /**
   * Stops the demo by its pid (SIGTERM, as Ctrl-C) and waits for it to stop its children;
   * returns its exit code, or kills it (and what it started) when it does not stop in {@code grace}.
   */
  int stop(Duration grace) throws InterruptedException {
    // Through the handle: Process.destroy() also closes the output pipe, losing what the demo prints while it stops.
    process.toHandle().destroy();
    if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("the demo did not stop within " + grace + " of SIGTERM; killed it");
    }
    reader.join(5_000);
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      stop(Duration.ofSeconds(30));
    }
  }
}
