package dev.sluice.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the packaged distribution and the JDK that runs the tests are. */
public final class Distribution {
  private Distribution() {}

  /** The repository root (this module's parent). */
  public static Path repoRoot() {
    Path here = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    return here.getFileName().toString().equals("sluice-it") ? here.getParent() : here;
  }

  /** {@code sluice-dist/target/sluice/bin/sluice}, which `mvn verify` packages before this module's tests. */
  public static Path launcher() {
    Path p = repoRoot().resolve("sluice-dist/target/sluice/bin/sluice");
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(p + " is missing: run `mvn package` (the scenario tests need the distribution)");
    }
    return p;
  }

  /** The JDK running the tests (25): its {@code bin} has {@code java} and {@code jwebserver}. */
  public static Path javaHome() {
    return Path.of(System.getProperty("java.home"));
  }

  /** Istio's reference data: {@code shared/istio} beside the repository or a directory above it. */
  public static Path istioData() {
    for (Path dir = repoRoot(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("shared/istio");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    return Path.of("/work/shared/istio");
  }
}
