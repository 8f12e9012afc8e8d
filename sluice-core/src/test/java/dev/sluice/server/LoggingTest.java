package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class LoggingTest {
  @TempDir Path dir;

  @AfterEach
  void restore() {
    Logging.configure("info", Map.of(), null, null);
  }

  @Test
  void levelsFromCommandLineAndAtRunTime() {
    Logging.configure("warn", Map.of("upstream", "debug", "misc", "critical"), null, null);
    assertThat(Logging.levels()).containsEntry("router", "warning").containsEntry("upstream", "debug")
        .containsEntry("misc", "critical").containsKey("golang");
    assertThat(Logging.logger("upstream").isDebugEnabled()).isTrue();
    assertThat(Logging.logger("router").isInfoEnabled()).isFalse();
    assertThat(LoggerFactory.getLogger("dev.sluice.Anything").isWarnEnabled()).isTrue();
    assertThat(LoggerFactory.getLogger("dev.sluice.Anything").isInfoEnabled()).isFalse();

    Logging.setLevel("router", "trace");
    assertThat(Logging.logger("router").isTraceEnabled()).isTrue();
    assertThat(Logging.levels()).containsEntry("router", "trace");
    Logging.setAllLevels("off");
    assertThat(Logging.levels().values()).containsOnly("off");
    assertThat(Logging.logger("upstream").isErrorEnabled()).isFalse();
    assertThatThrownBy(() -> Logging.setLevel("nosuch", "info")).hasMessageContaining("'nosuch'");
    assertThatThrownBy(() -> Logging.setLevel("http", "loud")).hasMessageContaining("'loud'");
  }

  @Test
  void writesToLogPathInTheGivenFormat() throws Exception {
    Path file = dir.resolve("sluice.log");
    Logging.configure("info", Map.of(), "%l|%n|%v", file);
    Logging.logger("main").info("started");
    Logging.logger("main").debug("hidden");
    Logging.setFormat("%L %v");
    Logging.logger("config").error("bad");
    assertThat(Files.readString(file)).isEqualTo("info|main|started\nE bad\n");
  }
}
