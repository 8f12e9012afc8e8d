package dev.sluice.api;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.sluice.api.config.ConfigException;
import org.jspecify.annotations.Nullable;

/** Extension factories by type URL and by name, loaded once through {@link java.util.ServiceLoader}. */
public interface ExtensionRegistry {
  /**
   * The factory of {@code kind} for a typed config, or null. Looks up by the Any's type URL; a
   * {@code udpa.type.v1.TypedStruct} or {@code xds.type.v3.TypedStruct} is looked up by its inner
   * type URL.
   */
  <F extends ExtensionFactory<?>> @Nullable F find(Class<F> kind, Any typedConfig, String name);

  /**
   * Unpacks {@code typedConfig} into the factory's config type (TypedStruct converted through JSON).
   *
   * @throws ConfigException naming {@code fieldPath} when the bytes do not parse
   */
  <C extends Message> C unpack(ExtensionFactory<C> factory, Any typedConfig, String fieldPath);
}
