package dev.sluice.admin;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.FieldMask;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.FieldMaskUtil;
import com.google.protobuf.util.JsonFormat;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * {@code /config_dump}: an {@code envoy.admin.v3.ConfigDump} assembled from the registered
 * providers (sorted by key, as Envoy's config tracker), with Envoy's query parameters:
 * {@code resource} (flatten one repeated field of whichever section has it), {@code mask} (a
 * FieldMask, applied inside the resource's Any when it names its fields), {@code name_regex} and
 * {@code include_eds} (adds the endpoints section).
 */
public final class ConfigDumpHandler {
  private final Map<String, ConfigDumpProvider> providers = new ConcurrentHashMap<>();
  private final Supplier<JsonFormat.TypeRegistry> registry;
  private volatile @Nullable ConfigDumpProvider endpoints;

  /** {@code registry} must know every type packed in an Any of the dumps. */
  public ConfigDumpHandler(JsonFormat.TypeRegistry registry) {
    this(() -> registry);
  }

  /** {@code registry} is asked at each dump (the proxy loads proto types on demand). */
  public ConfigDumpHandler(Supplier<JsonFormat.TypeRegistry> registry) {
    this.registry = registry;
  }

  /** Adds a section, e.g. {@code clusters} giving a ClustersConfigDump. */
  public void addProvider(String key, ConfigDumpProvider provider) {
    providers.put(key, provider);
  }

  /** The EndpointsConfigDump section, shown only with {@code ?include_eds}. */
  public void setEndpointsProvider(ConfigDumpProvider provider) {
    endpoints = provider;
  }

  public void register(AdminServer admin) {
    admin.register("/config_dump", "dump current Envoy configs (experimental)", false,
        AdminHandler.sync(this::configDump));
  }

  AdminResponse configDump(AdminRequest request) {
    QueryParams q = request.query();
    String resource = q.first("resource");
    String mask = q.first("mask");
    String nameRegex = q.first("name_regex");
    Predicate<String> names = n -> true;
    if (nameRegex != null && !nameRegex.isEmpty()) {
      try {
        Pattern p = Pattern.compile(nameRegex);
        names = p::matches;
      } catch (PatternSyntaxException e) {
        return AdminResponse.text(400,
            "Error while parsing name_regex from " + nameRegex + ": " + e.getMessage());
      }
    }
    Map<String, ConfigDumpProvider> sections = new TreeMap<>(providers);
    ConfigDumpProvider eds = endpoints;
    if (q.has("include_eds") && eds != null) {
      sections.put("endpoint", eds);
    }
    ConfigDump.Builder dump = ConfigDump.newBuilder();
    AdminResponse error = resource != null
        ? addResource(dump, sections, resource, mask, names)
        : addAll(dump, sections, mask, names);
    if (error != null) {
      return error;
    }
    try {
      return AdminResponse.json(AdminJson.print(dump, registry.get(), false));
    } catch (InvalidProtocolBufferException e) {
      return AdminResponse.text(500, "error: " + e.getMessage() + "\n");
    }
  }

  private @Nullable AdminResponse addAll(ConfigDump.Builder dump,
      Map<String, ConfigDumpProvider> sections, @Nullable String mask, Predicate<String> names) {
    for (ConfigDumpProvider provider : sections.values()) {
      Message message = provider.dump(names);
      if (mask != null) {
        // Sections have different fields: one the mask does not fit is left out, not an error.
        FieldMask fieldMask = FieldMaskUtil.fromString(mask);
        if (!valid(fieldMask, message.getDescriptorForType())) {
          continue;
        }
        message = trim(fieldMask, message);
      }
      dump.addConfigs(Any.pack(message));
    }
    if (dump.getConfigsCount() == 0 && mask != null) {
      return AdminResponse.text(400,
          "FieldMask " + mask + " could not be successfully applied to any configs.");
    }
    return null;
  }

  private @Nullable AdminResponse addResource(ConfigDump.Builder dump,
      Map<String, ConfigDumpProvider> sections, String resource, @Nullable String mask,
      Predicate<String> names) {
    for (ConfigDumpProvider provider : sections.values()) {
      Message message = provider.dump(names);
      FieldDescriptor field = message.getDescriptorForType().findFieldByName(resource);
      if (field == null) {
        continue;
      }
      if (!field.isRepeated()) {
        return AdminResponse.text(400, field.getName()
            + " is not a repeated field. Use ?mask=" + field.getName() + " to get only this field");
      }
      for (int i = 0; i < message.getRepeatedFieldCount(field); i++) {
        Message element = (Message) message.getRepeatedField(field, i);
        if (mask != null) {
          Message trimmed = trimResource(FieldMaskUtil.fromString(mask), element);
          if (trimmed == null) {
            return AdminResponse.text(400,
                "FieldMask " + mask + " could not be successfully used.");
          }
          element = trimmed;
        }
        dump.addConfigs(Any.pack(element));
      }
      return null;
    }
    return AdminResponse.text(404, resource + " not found in config dump");
  }

  /**
   * Envoy's trimResourceMessage: paths whose first segment names the resource's (single,
   * non-repeated) Any field are applied to the message packed inside it.
   */
  private @Nullable Message trimResource(FieldMask mask, Message message) {
    Descriptor descriptor = message.getDescriptorForType();
    List<String> outer = new ArrayList<>();
    List<String> inner = new ArrayList<>();
    FieldDescriptor anyField = null;
    for (String path : mask.getPathsList()) {
      String[] parts = path.split("\\.", 2);
      FieldDescriptor f = descriptor.findFieldByName(parts[0]);
      if (f != null && !f.isRepeated() && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
          && f.getMessageType().getFullName().equals(Any.getDescriptor().getFullName())) {
        if (anyField != null && anyField != f) {
          return null;
        }
        anyField = f;
        outer.add(parts[0]);
        if (parts.length > 1) {
          inner.add(parts[1]);
        }
      } else {
        outer.add(path);
      }
    }
    Message result = message;
    if (anyField != null && message.hasField(anyField) && !inner.isEmpty()) {
      Any any = (Any) message.getField(anyField);
      String typeName = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
      Descriptor innerType = registry.get().find(typeName);
      if (innerType == null) {
        return null;
      }
      FieldMask innerMask = FieldMask.newBuilder().addAllPaths(inner).build();
      try {
        Message unpacked = DynamicMessage.parseFrom(innerType, any.getValue());
        if (!valid(innerMask, innerType)) {
          return null;
        }
        Message trimmedInner = trim(innerMask, unpacked);
        Any repacked = Any.newBuilder().setTypeUrl(any.getTypeUrl())
            .setValue(trimmedInner.toByteString()).build();
        result = message.toBuilder().setField(anyField, repacked).build();
      } catch (InvalidProtocolBufferException e) {
        return null;
      }
    }
    FieldMask outerMask = FieldMask.newBuilder().addAllPaths(outer).build();
    if (!valid(outerMask, descriptor)) {
      return null;
    }
    return trim(outerMask, result);
  }

  private static boolean valid(FieldMask mask, Descriptor descriptor) {
    return mask.getPathsList().stream().allMatch(p -> FieldMaskUtil.isValid(descriptor, p));
  }

  private static Message trim(FieldMask mask, Message message) {
    Message.Builder out = message.newBuilderForType();
    FieldMaskUtil.merge(mask, message, out);
    return out.build();
  }
}
