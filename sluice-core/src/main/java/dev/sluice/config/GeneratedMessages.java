package dev.sluice.config;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.sluice.api.config.ConfigException;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Unpacks an {@link Any} into its generated Java message class, found from the type URL (the
 * descriptor's {@code java_package}/{@code java_multiple_files} options), for configs whose
 * consumer is chosen by name rather than by type, such as {@code typed_per_filter_config}.
 */
public final class GeneratedMessages {
  private static final ConcurrentHashMap<String, Message> DEFAULTS = new ConcurrentHashMap<>();

  private GeneratedMessages() {}

  /** The generated default instance for a type URL, or null when no generated class exists. */
  public static @Nullable Message defaultInstance(String typeUrl) {
    Message cached = DEFAULTS.get(typeUrl);
    if (cached != null) {
      return cached;
    }
    Descriptor d = ProtoTypes.get().find(typeUrl);
    if (d == null) {
      return null;
    }
    Message m = load(d);
    if (m != null) {
      DEFAULTS.put(typeUrl, m);
    }
    return m;
  }

  /**
   * Unpacks {@code any} into its generated class.
   *
   * @throws ConfigException naming {@code path} when the type is unknown or the bytes are bad
   */
  public static Message unpack(Any any, String path) {
    Message prototype = defaultInstance(any.getTypeUrl());
    if (prototype == null) {
      throw new ConfigException(path, "unknown type " + any.getTypeUrl());
    }
    try {
      return prototype.getParserForType().parseFrom(any.getValue());
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot parse " + any.getTypeUrl() + ": " + e.getMessage());
    }
  }

  private static @Nullable Message load(Descriptor d) {
    var options = d.getFile().getOptions();
    String pkg = options.hasJavaPackage() ? options.getJavaPackage() : d.getFile().getPackage();
    StringBuilder nested = new StringBuilder();
    for (Descriptor x = d; x != null; x = x.getContainingType()) {
      nested.insert(0, nested.isEmpty() ? x.getName() : x.getName() + "$");
    }
    String outer = options.getJavaMultipleFiles() ? "" : options.getJavaOuterClassname() + "$";
    String name = pkg + "." + outer + nested;
    try {
      Class<?> c = Class.forName(name, true, GeneratedMessages.class.getClassLoader());
      return (Message) c.getMethod("getDefaultInstance").invoke(null);
    } catch (ReflectiveOperationException | ClassCastException e) {
      return null;
    }
  }
}
