package dev.sluice.it.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.it.Commands;
import dev.sluice.it.Distribution;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container recipe's runtime (packaging/istio/Dockerfile): a JDK 25 cut with jlink to the
 * modules in packaging/istio/jlink-modules, and the AOT cache trained on it, must run the
 * distribution. Built here with the Dockerfile's steps, then used by the launcher as the image
 * uses it (the runtime beside bin/ comes first, the cache when it matches) to validate Istio's
 * own bootstrap.
 */
class JlinkRuntimeTest {
  @TempDir Path dir;

  @Test
  void theImagesJlinkRuntimeRunsTheDistribution() throws Exception {
    Path root = Distribution.repoRoot();
    String modules = Files.readString(root.resolve("packaging/istio/jlink-modules")).strip();
    Path jlink = Distribution.javaHome().resolve("bin/jlink");
    Path image = dir.resolve("sluice");
    // The image's layout: /opt/sluice/{bin,lib,runtime}.
    Commands.check("cp", "-r", Distribution.launcher().getParent().getParent().toString(), image.toString());
    // A runtime left in the build output by scripts/jlink-runtime is not the one under test.
    Commands.check("rm", "-rf", image.resolve("runtime").toString());
    Commands.run(Duration.ofMinutes(3), List.of(jlink.toString(), "--add-modules", modules, "--strip-debug",
        "--no-man-pages", "--no-header-files", "--output", image.resolve("runtime").toString()))
        .orThrow(List.of("jlink"));

    // The Dockerfile's next step: the AOT cache retrained on the jlink'd runtime (the one Maven made
    // belongs to the build machine's JDK).
    Commands.check("rm", "-f", image.resolve("lib/sluice.aot").toString(), image.resolve("lib/sluice.aot.id").toString());
    Path aot = root.resolve("sluice-dist/src/aot");
    Commands.run(Duration.ofMinutes(3), List.of(Distribution.javaHome().resolve("bin/java").toString(),
        aot.resolve("AotTraining.java").toString(), image.toString(), aot.resolve("training-bootstrap.json").toString()))
        .orThrow(List.of("AotTraining"));
    assertThat(image.resolve("lib/sluice.aot")).isRegularFile();

    Path golden = Distribution.istioData().resolve("bootstrap/default_golden.json");
    // No JAVA_HOME or SLUICE_JAVA_HOME: the launcher must pick the runtime beside it.
    Commands.Result r = Commands.run(Duration.ofMinutes(2), List.of("env", "-u", "JAVA_HOME", "-u", "SLUICE_JAVA_HOME",
        "bash", "-x", image.resolve("bin/sluice").toString(), "--mode", "validate", "-c", golden.toString()));
    assertThat(r.output()).contains(image.resolve("runtime/bin/java").toString());
    assertThat(r.output()).contains("-XX:AOTCache=" + image.resolve("lib/sluice.aot"));
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output().strip()).endsWith("OK");
  }
}
