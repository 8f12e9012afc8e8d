package dev.sluice.tls;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads an Envoy {@code DataSource} (file, inline bytes or string, environment variable); control thread only. */
public final class DataSources {
  private DataSources() {}

  public static boolean isSet(DataSource ds) {
    return ds.getSpecifierCase() != DataSource.SpecifierCase.SPECIFIER_NOT_SET;
  }

  /** @throws ConfigException naming {@code path} when the source is unset or unreadable */
  public static byte[] read(DataSource ds, String path) {
    return switch (ds.getSpecifierCase()) {
      case FILENAME -> {
        try {
          yield Files.readAllBytes(Path.of(ds.getFilename()));
        } catch (IOException e) {
          throw new ConfigException(path + ".filename", "cannot read '" + ds.getFilename() + "': " + e.getMessage(), e);
        }
      }
      case INLINE_BYTES -> ds.getInlineBytes().toByteArray();
      case INLINE_STRING -> ds.getInlineString().getBytes(StandardCharsets.UTF_8);
      case ENVIRONMENT_VARIABLE -> {
        String v = System.getenv(ds.getEnvironmentVariable());
        if (v == null) {
          throw new ConfigException(path + ".environment_variable", "environment variable '" + ds.getEnvironmentVariable() + "' is not set");
        }
        yield v.getBytes(StandardCharsets.UTF_8);
      }
      case SPECIFIER_NOT_SET -> throw new ConfigException(path, "a data source (filename, inline_bytes, inline_string or environment_variable) is required");
    };
  }
}
