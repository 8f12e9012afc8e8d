package dev.sluice.config;

import com.github.udpa.udpa.type.v1.TypedStruct;
import com.google.gson.JsonElement;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.ExtensionFactory;
import dev.sluice.api.ExtensionRegistry;
import dev.sluice.api.config.ConfigException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The extensions on the class path ({@code META-INF/services/dev.sluice.api.ExtensionFactory}),
 * indexed per kind (the factory interface: listener filter, network filter, HTTP filter, access
 * logger, ...) by config type and by name.
 *
 * <p>Lookup follows Envoy (extension lookup by name is off by default since 1.23): a
 * {@code typed_config} with a type URL selects the factory by type alone, a {@code TypedStruct}
 * ({@code udpa.type.v1} or {@code xds.type.v3}) by its inner type URL; only an empty
 * {@code typed_config} falls back to the name (and aliases).
 */
public final class ServiceLoaderExtensionRegistry implements ExtensionRegistry {
  private static final String UDPA_TYPED_STRUCT = TypedStruct.getDescriptor().getFullName();
  private static final String XDS_TYPED_STRUCT =
      com.github.xds.type.v3.TypedStruct.getDescriptor().getFullName();
  private static volatile @Nullable List<ExtensionFactory<?>> installed;

  private final List<ExtensionFactory<?>> factories;
  private final boolean rejectUnknownFields;
  private final Map<Class<?>, KindIndex> indexes = new ConcurrentHashMap<>();

  /**
   * @param factories the extensions to index
   * @param rejectUnknownFields whether a TypedStruct field the config type does not declare is an
   *     error ({@code --reject-unknown-dynamic-fields}) or ignored
   */
  public ServiceLoaderExtensionRegistry(List<? extends ExtensionFactory<?>> factories,
      boolean rejectUnknownFields) {
    this.factories = List.copyOf(factories);
    this.rejectUnknownFields = rejectUnknownFields;
  }

  /** A registry of every installed extension; the ServiceLoader runs once per process. */
  public static ServiceLoaderExtensionRegistry installed(boolean rejectUnknownFields) {
    List<ExtensionFactory<?>> list = installed;
    if (list == null) {
      synchronized (ServiceLoaderExtensionRegistry.class) {
        list = installed;
        if (list == null) {
          @SuppressWarnings({"unchecked", "rawtypes"})
          ServiceLoader<ExtensionFactory<?>> loader = (ServiceLoader) ServiceLoader.load(
              ExtensionFactory.class, ServiceLoaderExtensionRegistry.class.getClassLoader());
          list = loader.stream().<ExtensionFactory<?>>map(ServiceLoader.Provider::get).toList();
          installed = list;
        }
      }
    }
    return new ServiceLoaderExtensionRegistry(list, rejectUnknownFields);
  }

  /** Every factory, in class-path order. */
  public List<ExtensionFactory<?>> factories() {
    return factories;
  }

  @Override
  public <F extends ExtensionFactory<?>> @Nullable F find(Class<F> kind, Any typedConfig, String name) {
    KindIndex index = indexes.computeIfAbsent(kind, this::index);
    ExtensionFactory<?> found;
    if (typedConfig.getTypeUrl().isEmpty()) {
      found = index.byName.get(name);
    } else {
      found = index.byType.get(ProtoTypes.fullName(configTypeUrl(typedConfig)));
    }
    return kind.cast(found);
  }

  @Override
  public <C extends Message> C unpack(ExtensionFactory<C> factory, Any typedConfig, String fieldPath) {
    String type = ProtoTypes.fullName(typedConfig.getTypeUrl());
    if (type.equals(UDPA_TYPED_STRUCT) || type.equals(XDS_TYPED_STRUCT)) {
      TypedStructView ts = TypedStructView.of(typedConfig, fieldPath);
      checkType(factory, ts.typeUrl(), fieldPath + ".type_url");
      return fromStruct(factory, ts.value(), fieldPath + ".value");
    }
    if (typedConfig.getTypeUrl().isEmpty()) {
      return factory.defaultInstance();
    }
    checkType(factory, typedConfig.getTypeUrl(), fieldPath);
    try {
      @SuppressWarnings("unchecked")
      C config = (C) factory.defaultInstance().getParserForType().parseFrom(typedConfig.getValue());
      return config;
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(fieldPath, "cannot parse " + typedConfig.getTypeUrl() + ": "
          + e.getMessage(), e);
    }
  }

  private static void checkType(ExtensionFactory<?> factory, String typeUrl, String fieldPath) {
    if (!ProtoTypes.fullName(typeUrl).equals(ProtoTypes.fullName(factory.typeUrl()))) {
      throw new ConfigException(fieldPath, "type " + typeUrl + " is not the config type of "
          + factory.name() + " (" + factory.typeUrl() + ")");
    }
  }

  private <C extends Message> C fromStruct(ExtensionFactory<C> factory, Struct value, String path) {
    ProtoTypes types = ProtoTypes.get();
    JsonElement json;
    try {
      json = ConfigText.readJson(JsonFormat.printer().print(value));
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(path, "cannot print TypedStruct value: " + e.getMessage(), e);
    }
    try {
      return new ProtoJson(types, !rejectUnknownFields).parse(json, factory.defaultInstance());
    } catch (ConfigException e) {
      throw e.under(path);
    }
  }

  private static String configTypeUrl(Any typedConfig) {
    String type = ProtoTypes.fullName(typedConfig.getTypeUrl());
    if (type.equals(UDPA_TYPED_STRUCT) || type.equals(XDS_TYPED_STRUCT)) {
      return TypedStructView.of(typedConfig, "typed_config").typeUrl();
    }
    return typedConfig.getTypeUrl();
  }

  private KindIndex index(Class<?> kind) {
    Map<String, ExtensionFactory<?>> byType = new HashMap<>();
    Map<String, ExtensionFactory<?>> byName = new HashMap<>();
    for (ExtensionFactory<?> f : factories) {
      if (!kind.isInstance(f)) {
        continue;
      }
      putUnique(byType, ProtoTypes.fullName(f.typeUrl()), f, kind);
      putUnique(byName, f.name(), f, kind);
      for (String alias : f.aliases()) {
        putUnique(byName, alias, f, kind);
      }
    }
    return new KindIndex(Map.copyOf(byType), Map.copyOf(byName));
  }

  private static void putUnique(Map<String, ExtensionFactory<?>> map, String key,
      ExtensionFactory<?> factory, Class<?> kind) {
    ExtensionFactory<?> previous = map.putIfAbsent(key, factory);
    if (previous != null && previous != factory) {
      // As Envoy: two registrations of one name or type within a kind is a build error.
      throw new IllegalStateException("two " + kind.getSimpleName() + " extensions for '" + key
          + "': " + previous.getClass().getName() + " and " + factory.getClass().getName());
    }
  }

  private record KindIndex(Map<String, ExtensionFactory<?>> byType,
      Map<String, ExtensionFactory<?>> byName) {}

  /** The common shape of udpa.type.v1.TypedStruct and xds.type.v3.TypedStruct. */
  private record TypedStructView(String typeUrl, Struct value) {
    static TypedStructView of(Any any, String fieldPath) {
      try {
        if (ProtoTypes.fullName(any.getTypeUrl()).equals(UDPA_TYPED_STRUCT)) {
          TypedStruct ts = TypedStruct.parseFrom(any.getValue());
          return new TypedStructView(ts.getTypeUrl(), ts.getValue());
        }
        com.github.xds.type.v3.TypedStruct ts =
            com.github.xds.type.v3.TypedStruct.parseFrom(any.getValue());
        return new TypedStructView(ts.getTypeUrl(), ts.getValue());
      } catch (InvalidProtocolBufferException e) {
        throw new ConfigException(fieldPath, "cannot parse " + any.getTypeUrl() + ": "
            + e.getMessage(), e);
      }
    }
  }
}
