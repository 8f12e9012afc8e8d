package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import java.time.Duration;

/** Converts protobuf durations, rejecting negative ones as Envoy's validation does. */
final class ProtoDurations {
  private ProtoDurations() {}

  static Duration of(com.google.protobuf.Duration d, String fieldPath) {
    if (d.getSeconds() < 0 || d.getNanos() < 0) {
      throw new ConfigException(fieldPath, "duration must be non-negative");
    }
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }
}
