package dev.sluice.xds;

import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Where resources of a type come from: a gRPC stream (ADS, or a type's own discovery service for a
 * standalone {@code api_config_source}), or a file ({@code path_config_source}). Control thread.
 */
interface XdsSource extends AutoCloseable {
  /** Subscribes to {@code type}: every resource when {@code names} is null, else those names. */
  void subscribe(XdsResourceType type, @Nullable Set<String> names, ResourceHandler handler);

  /** Changes the names of a named subscription. */
  void updateNames(XdsResourceType type, Set<String> names);

  /** Starts fetching (opens the stream, reads the file). */
  void start();

  /** The last accepted version of {@code type}, empty before the first. */
  String acceptedVersion(XdsResourceType type);

  /** True once {@code type} has been subscribed here. */
  boolean subscribed(XdsResourceType type);

  @Override
  void close();
}
