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
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.jspecify.annotations.Nullable;

/**
 * The protobuf message types of the Envoy API jar ({@code io.envoyproxy.controlplane:api}: Envoy,
 * xDS/udpa, CEL, OpenTelemetry, Prometheus and the well-known types), so that {@code typed_config}
 * Any values with an {@code @type} resolve when JSON/YAML config is parsed and when xDS resources
 * are decoded or printed.
 *
 * <p><b>Loaded on demand.</b> Loading all ~620 files (every descriptor holder class, cross-linked
 * descriptors) cost about 0.6 s and ~25 MiB of metaspace and heap at start-up, although a sidecar
 * uses a few dozen. {@link #find} loads a type's file (and its imports) the first time its type URL
 * is seen: the proto package maps to the Java package ({@code envoy.x} is
 * {@code io.envoyproxy.envoy.x}, {@code xds.x} is {@code com.github.xds.x}, ...), whose descriptor
 * holder classes ({@code *Proto}, {@code *OuterClass}, indexed from the jar's entry names without
 * loading them) are loaded until one declares the type. A type in no such package is unknown
 * (Istio's own, below) without loading anything. {@link #typeRegistry()}, {@link #parser} and
 * {@link #printer()} need every type, so they load them all (tools, tests, the first
 * {@code /config_dump}); {@link #loadedParser} is the parser for JSON whose Any types were all
 * resolved through {@link #find} first, as {@link ProtoJson} does.
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
  /** Java package prefixes the API jar's protos use for a proto package {@code p}: {@code prefix + p}. */
  private static final List<String> JAVA_PACKAGE_PREFIXES =
      List.of("io.envoyproxy.", "com.github.", "com.github.udpa.", "com.", "dev.", "io.", "io.envoyproxy.pgv.", "");
  private static final ProtoTypes INSTANCE = new ProtoTypes();
  private static volatile boolean preloading;

  private final ClassLoader loader = ProtoTypes.class.getClassLoader();
  /** Message full name to descriptor, for every message of every file loaded so far. */
  private final Map<String, Descriptor> byFullName = new ConcurrentHashMap<>();
  /** Names looked up and not found (unknown types are looked up again at every config load). */
  private final Set<String> unknown = ConcurrentHashMap.newKeySet();
  private final Set<FileDescriptor> loadedFiles = new HashSet<>();
  private static @Nullable Map<String, List<String>> holdersByPackage;
  private final Set<String> loadedHolders = new HashSet<>();
  private boolean allLoaded;
  private JsonFormat.@Nullable TypeRegistry loadedRegistry;

  /** A fresh, empty instance (tests: what a new process would find); use {@link #get()}. */
  ProtoTypes() {
    // The well-known types, whatever imports them.
    for (Descriptor d : List.of(Any.getDescriptor(), Struct.getDescriptor(),
        com.google.protobuf.Duration.getDescriptor(), com.google.protobuf.Timestamp.getDescriptor(),
        com.google.protobuf.BoolValue.getDescriptor(), com.google.protobuf.Empty.getDescriptor(),
        com.google.protobuf.FieldMask.getDescriptor(), com.google.protobuf.Api.getDescriptor(),
        com.google.protobuf.DescriptorProtos.FileDescriptorProto.getDescriptor())) {
      register(d.getFile());
    }
  }

  /** Loads the bootstrap's types on a background thread, overlapping start-up work. */
  public static void preload() {
    if (preloading) {
      return;
    }
    preloading = true;
    Thread t = new Thread(() -> INSTANCE.find(TYPE_URL_PREFIX + Bootstrap.getDescriptor().getFullName()), "proto-types");
    t.setDaemon(true);
    t.start();
  }

  public static ProtoTypes get() {
    return INSTANCE;
  }

  /**
   * The JsonFormat registry of every message type of the jar (loads them all: for tools, tests
   * and the admin config dump, not the proxy's start-up).
   */
  public synchronized JsonFormat.TypeRegistry typeRegistry() {
    loadAll();
    return loadedRegistry();
  }

  /** The message type named by {@code typeUrl} ({@code type.googleapis.com/<full name>}), or null. */
  public @Nullable Descriptor find(String typeUrl) {
    String name = fullName(typeUrl);
    Descriptor d = byFullName.get(name);
    if (d != null || unknown.contains(name)) {
      return d;
    }
    return resolve(name);
  }

  /** Names of all .proto files of the jar (loads them all; for coverage checks). */
  public synchronized Set<String> fileNames() {
    loadAll();
    Set<String> names = new HashSet<>();
    for (FileDescriptor f : loadedFiles) {
      names.add(f.getName());
    }
    return Set.copyOf(names);
  }

  /** Every file of the jar (loads them all). */
  synchronized Set<FileDescriptor> allFiles() {
    loadAll();
    return Set.copyOf(loadedFiles);
  }

  /** A JSON parser resolving Any through every type of the jar (loads them all). */
  public JsonFormat.Parser parser(boolean ignoreUnknownFields) {
    return parser(typeRegistry(), ignoreUnknownFields);
  }

  /**
   * A JSON parser resolving Any through the types loaded so far: for JSON whose Any types were
   * each looked up with {@link #find} before.
   */
  public JsonFormat.Parser loadedParser(boolean ignoreUnknownFields) {
    JsonFormat.TypeRegistry registry;
    synchronized (this) {
      registry = loadedRegistry();
    }
    return parser(registry, ignoreUnknownFields);
  }

  private static JsonFormat.Parser parser(JsonFormat.TypeRegistry registry, boolean ignoreUnknownFields) {
    JsonFormat.Parser p = JsonFormat.parser().usingTypeRegistry(registry);
    return ignoreUnknownFields ? p.ignoringUnknownFields() : p;
  }

  /** A JSON printer (proto field names, as Envoy's config dump) resolving Any through every type. */
  public JsonFormat.Printer printer() {
    return JsonFormat.printer().usingTypeRegistry(typeRegistry()).preservingProtoFieldNames();
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

  private synchronized @Nullable Descriptor resolve(String name) {
    Descriptor d = byFullName.get(name);
    if (d != null || unknown.contains(name)) {
      return d;
    }
    String pkg = protoPackage(name);
    for (String prefix : JAVA_PACKAGE_PREFIXES) {
      for (String holder : holders().getOrDefault(prefix + pkg, List.of())) {
        if (loadedHolders.add(holder)) {
          FileDescriptor file = descriptorOf(holder, loader);
          if (file != null) {
            register(file);
          }
          d = byFullName.get(name);
          if (d != null) {
            return d;
          }
        }
      }
    }
    unknown.add(name);
    return null;
  }

  /** The proto package of a message full name: the segments before the first capitalised one. */
  private static String protoPackage(String fullName) {
    int end = 0;
    int start = 0;
    while (start < fullName.length() && !Character.isUpperCase(fullName.charAt(start))) {
      int dot = fullName.indexOf('.', start);
      if (dot < 0) {
        break;
      }
      end = dot;
      start = dot + 1;
    }
    return fullName.substring(0, end);
  }

  /** Adds {@code file} and its imports, with all their messages. Under the lock. */
  private void register(FileDescriptor root) {
    Deque<FileDescriptor> pending = new ArrayDeque<>();
    pending.add(root);
    while (!pending.isEmpty()) {
      FileDescriptor file = pending.poll();
      if (loadedFiles.add(file)) {
        loadedRegistry = null;
        for (Descriptor message : file.getMessageTypes()) {
          addNested(message, byFullName);
        }
        pending.addAll(file.getDependencies());
      }
    }
  }

  private void loadAll() {
    if (allLoaded) {
      return;
    }
    for (List<String> names : holders().values()) {
      for (String holder : names) {
        if (loadedHolders.add(holder)) {
          FileDescriptor file = descriptorOf(holder, loader);
          if (file != null) {
            register(file);
          }
        }
      }
    }
    unknown.removeIf(byFullName::containsKey);
    allLoaded = true;
  }

  private JsonFormat.TypeRegistry loadedRegistry() {
    JsonFormat.TypeRegistry r = loadedRegistry;
    if (r == null) {
      JsonFormat.TypeRegistry.Builder builder = JsonFormat.TypeRegistry.newBuilder();
      for (FileDescriptor file : loadedFiles) {
        if (!file.getMessageTypes().isEmpty()) {
          builder.add(file.getMessageTypes().getFirst()); // adds the whole file and its imports
        }
      }
      r = loadedRegistry = builder.build();
    }
    return r;
  }

  private static synchronized Map<String, List<String>> holders() {
    Map<String, List<String>> h = holdersByPackage;
    if (h == null) {
      h = holdersByPackage = holderClassNames();
    }
    return h;
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

  /** The descriptor holder classes of the jar by Java package, from its entry names alone. */
  private static Map<String, List<String>> holderClassNames() {
    File jar;
    try {
      jar = new File(Bootstrap.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("cannot locate the Envoy API jar", e);
    }
    Map<String, List<String>> names = new HashMap<>();
    Map<String, List<String>> others = new HashMap<>();
    try (JarFile jf = new JarFile(jar)) {
      for (JarEntry e : Collections.list(jf.entries())) {
        String n = e.getName();
        if (n.endsWith(".class") && n.indexOf('$') < 0) {
          String cls = n.substring(0, n.length() - ".class".length());
          String simple = cls.substring(cls.lastIndexOf('/') + 1);
          String pkg = cls.lastIndexOf('/') < 0 ? "" : cls.substring(0, cls.lastIndexOf('/')).replace('/', '.');
          boolean holder = simple.endsWith("Proto") || simple.endsWith("OuterClass");
          (holder ? names : others).computeIfAbsent(pkg, k -> new ArrayList<>()).add(cls.replace('/', '.'));
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the Envoy API jar " + jar, e);
    }
    // Packages whose holder has another name (validate's Validate, Prometheus' Metrics, the
    // annotation files): every top-level class is a candidate; descriptorOf skips the messages.
    others.forEach(names::putIfAbsent);
    return names;
  }
}
