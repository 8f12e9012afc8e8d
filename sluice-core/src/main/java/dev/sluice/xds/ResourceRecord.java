package dev.sluice.xds;

import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.sluice.xds.ResourceHandler.ResourceError;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * What {@code /config_dump} shows of one xDS resource type: each accepted resource with the
 * {@code version_info} and time it last changed, and for each resource whose last update was
 * rejected, that update with the NACK's details (Envoy's {@code error_state}). Wraps the type's
 * handler so every response is recorded as applied. Written on the control thread, read by admin.
 */
final class ResourceRecord {
  /** An accepted resource. */
  record Accepted(Message resource, String version, Timestamp lastUpdated) {}

  /** The last rejected update of a resource (Envoy's {@code UpdateFailureState}). */
  record Failure(Message resource, String details, String version, Timestamp lastUpdateAttempt) {}

  private final Clock clock;
  private final Map<String, Accepted> accepted = new ConcurrentHashMap<>();
  private final Map<String, Failure> failures = new ConcurrentHashMap<>();

  ResourceRecord(Clock clock) {
    this.clock = clock;
  }

  /** {@code handler}, recording what it accepts, rejects and what is removed. */
  ResourceHandler recording(ResourceHandler handler) {
    return update -> {
      List<ResourceError> errors = handler.apply(update);
      Timestamp now = timestamp(clock.millis());
      boolean all = errors.stream().anyMatch(e -> e.name().equals("*"));
      for (Map.Entry<String, Message> e : update.resources().entrySet()) {
        ResourceError error = all ? errors.getFirst()
            : errors.stream().filter(x -> x.name().equals(e.getKey())).findFirst().orElse(null);
        if (error == null) {
          // As Envoy, an unchanged resource keeps the version and time it last changed at.
          Accepted held = accepted.get(e.getKey());
          if (held == null || !held.resource().equals(e.getValue())) {
            accepted.put(e.getKey(), new Accepted(e.getValue(), update.version(), now));
          }
          failures.remove(e.getKey());
        } else {
          failures.put(e.getKey(), new Failure(e.getValue(), error.message(), update.version(), now));
        }
      }
      for (String name : update.removed()) {
        accepted.remove(name);
        failures.remove(name);
      }
      return errors;
    };
  }

  Map<String, Accepted> accepted() {
    return Map.copyOf(accepted);
  }

  @Nullable Accepted accepted(String name) {
    return accepted.get(name);
  }

  Map<String, Failure> failures() {
    return Map.copyOf(failures);
  }

  static Timestamp timestamp(long epochMillis) {
    return Timestamp.newBuilder().setSeconds(Math.floorDiv(epochMillis, 1000))
        .setNanos((int) Math.floorMod(epochMillis, 1000) * 1_000_000).build();
  }
}
