package dev.sluice.config;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.jspecify.annotations.Nullable;

/**
 * Every protobuf message type of the Envoy API jar ({@code io.envoyproxy.controlplane:api}: Envoy,
 * xDS/udpa, CEL, OpenTelemetry, Prometheus and the well-known types), so that {@code typed_config}
 * Any values with an {@code @type} resolve when JSON/YAML config is parsed and when xDS resources
 * are decoded or printed.
 *
 * <p>The descriptors are found by scanning the jar for generated file-descriptor holders (the
 * {@code java_outer_classname} classes, named {@code *Proto} or {@code *OuterClass}) and following
 * their imports. That takes about 0.6 s on a cold JVM (class loading and descriptor cross-linking
 * of ~620 files); it is done once per process, and {@link #preload()} lets start-up overlap it
 * with other work.
 *
 * <p><b>Types not in the jar.</b> Istio puts its own extensions in {@code typed_config}
 * ({@code type.googleapis.com/stats.PluginConfig},
 * {@code envoy.tcp.metadataexchange.config.MetadataExchange},
 * {@code istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig}). Loading must not fail on
 * them: {@link ProtoJson} keeps such an Any with its original type URL and, as value, the
 * serialized {@link Struct} of its JSON payload (the object without {@code @type}). Read it back
 * with {@link #opaquePayload(Any)}; an extension for such a type declares {@code Struct}-shaped
 * handling by type URL.
 */
public final class ProtoTypes {
  private static final String TYPE_URL_PREFIX = "type.googleapis.com/";
  private static final CompletableFuture<ProtoTypes> INSTANCE = new CompletableFuture<>();
  private static volatile boolean started;

  private final JsonFormat.TypeRegistry registry;
  private final Map<String, Descriptor> byFullName;
  private final Set<String> files;

  private ProtoTypes(JsonFormat.TypeRegistry registry, Map<String, Descriptor> byFullName,
      Set<String> files) {
    this.registry = registry;
    this.byFullName = byFullName;
    this.files = files;
  }

  /** Starts building the registry on a background thread, if not already started. */
  public static void preload() {
    startOnce(true);
  }

  /** The registry, built on first use (waits for a {@link #preload()} in progress). */
  public static ProtoTypes get() {
    startOnce(false);
    return INSTANCE.join();
  }

  private static void startOnce(boolean background) {
    if (started) {
      return;
    }
    synchronized (ProtoTypes.class) {
      if (started) {
        return;
      }
      started = true;
    }
    Runnable build = () -> {
      try {
        INSTANCE.complete(scan());
      } catch (RuntimeException | Error e) {
        INSTANCE.completeExceptionally(e);
      }
    };
    if (background) {
      Thread t = new Thread(build, "proto-types");
      t.setDaemon(true);
      t.start();
    } else {
      build.run();
    }
  }

  /** The JsonFormat registry of all message types (for parsers and printers). */
  public JsonFormat.TypeRegistry typeRegistry() {
    return registry;
  }

  /** The message type named by {@code typeUrl} ({@code type.googleapis.com/<full name>}), or null. */
  public @Nullable Descriptor find(String typeUrl) {
    return byFullName.get(fullName(typeUrl));
  }

  /** Names of all .proto files known (for coverage checks). */
  public Set<String> fileNames() {
    return files;
  }

  /** A JSON parser resolving Any through this registry. */
  public JsonFormat.Parser parser(boolean ignoreUnknownFields) {
    JsonFormat.Parser p = JsonFormat.parser().usingTypeRegistry(registry);
    return ignoreUnknownFields ? p.ignoringUnknownFields() : p;
  }

  /** A JSON printer (proto field names, as Envoy's config dump) resolving Any through this registry. */
  public JsonFormat.Printer printer() {
    return JsonFormat.printer().usingTypeRegistry(registry).preservingProtoFieldNames();
  }

  /** The message full name of a type URL: everything after the last {@code /}. */
  public static String fullName(String typeUrl) {
    return typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
  }

  /** {@code type.googleapis.com/<full name>} of a descriptor. */
  public static String typeUrl(Descriptor descriptor) {
    return TYPE_URL_PREFIX + descriptor.getFullName();
  }

  /**
   * The JSON payload of an Any whose type is not in the registry, as loaded by {@link ProtoJson}
   * (see the class comment).
   *
   * @throws ConfigException when the value is not a serialized Struct
   */
  public static Struct opaquePayload(Any any) {
    try {
      return Struct.parseFrom(any.getValue());
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException("", "payload of " + any.getTypeUrl() + " is not a Struct", e);
    }
  }

  private static ProtoTypes scan() {
    ClassLoader loader = ProtoTypes.class.getClassLoader();
    Deque<FileDescriptor> pending = new ArrayDeque<>();
    for (String holder : holderClassNames()) {
      FileDescriptor file = descriptorOf(holder, loader);
      if (file != null) {
        pending.add(file);
      }
    }
    // The well-known types and everything imported come in through the dependency walk.
    Set<FileDescriptor> seen = new HashSet<>();
    while (!pending.isEmpty()) {
      FileDescriptor file = pending.poll();
      if (seen.add(file)) {
        pending.addAll(file.getDependencies());
      }
    }
    JsonFormat.TypeRegistry.Builder builder = JsonFormat.TypeRegistry.newBuilder();
    Map<String, Descriptor> byName = new HashMap<>();
    Set<String> names = new HashSet<>();
    for (FileDescriptor file : seen) {
      names.add(file.getName());
      for (Descriptor message : file.getMessageTypes()) {
        addNested(message, byName);
      }
      if (!file.getMessageTypes().isEmpty()) {
        builder.add(file.getMessageTypes().getFirst()); // adds the whole file and its imports
      }
    }
    return new ProtoTypes(builder.build(), Map.copyOf(byName), Set.copyOf(names));
  }

  private static void addNested(Descriptor message, Map<String, Descriptor> byName) {
    byName.put(message.getFullName(), message);
    for (Descriptor nested : message.getNestedTypes()) {
      addNested(nested, byName);
    }
  }

  private static @Nullable FileDescriptor descriptorOf(String className, ClassLoader loader) {
    try {
      Method m = Class.forName(className, true, loader).getMethod("getDescriptor");
      return m.getReturnType() == FileDescriptor.class ? (FileDescriptor) m.invoke(null) : null;
    } catch (ReflectiveOperationException | LinkageError e) {
      return null; // not a generated holder after all
    }
  }

  private static List<String> holderClassNames() {
    File jar;
    try {
      jar = new File(Bootstrap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("cannot locate the Envoy API jar", e);
    }
    List<String> names = new ArrayList<>();
    try (JarFile jf = new JarFile(jar)) {
      for (JarEntry e : Collections.list(jf.entries())) {
        String n = e.getName();
        if (n.endsWith(".class") && n.indexOf('$') < 0) {
          String cls = n.substring(0, n.length() - ".class".length());
          String simple = cls.substring(cls.lastIndexOf('/') + 1);
          if (simple.endsWith("Proto") || simple.endsWith("OuterClass")) {
            names.add(cls.replace('/', '.'));
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the Envoy API jar " + jar, e);
    }
    return names;
  }
}
