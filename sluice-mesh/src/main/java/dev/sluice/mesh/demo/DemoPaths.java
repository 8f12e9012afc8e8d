package dev.sluice.mesh.demo;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Where the demo finds things: the distribution's launcher {@code bin/sluice} (system property
 * {@value #LAUNCHER_PROPERTY}, else beside the {@code lib/} directory this code was loaded from)
 * and the Istio Bookinfo sample ({@code --istio-dir}, else {@code shared/istio/bookinfo} in the
 * nearest directory above the checkout that has it, as {@code ../shared/istio} is for a checkout).
 */
final class DemoPaths {
  static final String LAUNCHER_PROPERTY = "sluice.launcher";
  /** Set by the checkout's {@code ./sluice} so printed commands use it. */
  static final String LAUNCHER_ENV = "SLUICE_LAUNCHER";

  private DemoPaths() {}

  static Path launcher() {
    String configured = System.getProperty(LAUNCHER_PROPERTY);
    if (configured != null) {
      return executable(Path.of(configured));
    }
    Path code;
    try {
      code = Path.of(DemoMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("cannot tell where Sluice is installed; set -D" + LAUNCHER_PROPERTY + "=.../bin/sluice");
    }
    // <dist>/lib/sluice-mesh-*.jar -> <dist>/bin/sluice
    Path lib = code.getParent();
    if (lib == null || lib.getParent() == null || !lib.getFileName().toString().equals("lib")) {
      throw new IllegalStateException("not running from a Sluice distribution (" + code + "); build it with "
          + "`mvn package` and run sluice-dist/target/sluice/bin/sluice, or set -D" + LAUNCHER_PROPERTY);
    }
    return executable(lib.getParent().resolve("bin/sluice"));
  }

  private static Path executable(Path p) {
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException("no launcher at " + p);
    }
    return p.toAbsolutePath().normalize();
  }

  /** The Bookinfo sample directory (holding {@code networking/} and {@code platform/kube/bookinfo.yaml}). */
  static Path bookinfo(@Nullable Path istioDir, Path launcher) {
    if (istioDir != null) {
      for (Path candidate : new Path[] {istioDir, istioDir.resolve("bookinfo")}) {
        if (isBookinfo(candidate)) {
          return candidate.toAbsolutePath().normalize();
        }
      }
      throw new IllegalStateException(istioDir + " holds no Bookinfo sample (networking/, platform/kube/bookinfo.yaml)");
    }
    for (Path start : new Path[] {launcher, Path.of("").toAbsolutePath()}) {
      for (Path d = start.toAbsolutePath().getParent(); d != null; d = d.getParent()) {
        Path candidate = d.resolve("shared/istio/bookinfo");
        if (isBookinfo(candidate)) {
          return candidate.normalize();
        }
      }
    }
    throw new IllegalStateException("cannot find the Istio Bookinfo sample (shared/istio/bookinfo above "
        + launcher + "); give it with --istio-dir");
  }

  private static boolean isBookinfo(Path p) {
    return Files.isDirectory(p.resolve("networking")) && Files.isRegularFile(p.resolve("platform/kube/bookinfo.yaml"));
  }

  /** How to name the launcher in printed commands: the checkout's {@code ./sluice} when it started us. */
  static String commandName() {
    String env = System.getenv(LAUNCHER_ENV);
    if (env != null && !env.isEmpty()) {
      return env;
    }
    try {
      return launcher().toString();
    } catch (IllegalStateException e) {
      return "sluice";
    }
  }
}
