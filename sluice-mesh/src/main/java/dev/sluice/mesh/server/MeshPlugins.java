package dev.sluice.mesh.server;

import dev.sluice.mesh.model.MeshSources;
import dev.sluice.mesh.model.MeshTranslator;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds the {@link MeshTranslator} and {@link MeshSources} implementations on the class path
 * ({@code META-INF/services}), so the runtime does not depend on which package provides them.
 */
public final class MeshPlugins {
  private MeshPlugins() {}

  public static MeshTranslator translator() {
    return load(MeshTranslator.class);
  }

  public static MeshSources sources() {
    return load(MeshSources.class);
  }

  private static <T> T load(Class<T> type) {
    try {
      return ServiceLoader.load(type).findFirst().orElseThrow(() -> new IllegalStateException(
          "no " + type.getSimpleName() + " on the class path (META-INF/services/" + type.getName() + ")"));
    } catch (ServiceConfigurationError e) {
      throw new IllegalStateException("cannot load the " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }
}
