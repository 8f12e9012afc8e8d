package dev.sluice.config;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * JSON tree to proto message, as Envoy loads config: names of unknown fields and of bad values are
 * reported with their proto field path (e.g. {@code static_resources.clusters[0].foo}), which
 * JsonFormat alone does not give, and an Any whose type is not in {@link ProtoTypes} is kept
 * (type URL plus Struct payload, see {@link ProtoTypes}) instead of failing the load.
 */
public final class ProtoJson {
  /** Key that marks, inside a placeholder Struct, the type URL of an Any of unknown type. */
  private static final String OPAQUE_MARKER = "@sluice.opaque_type_url";
  private static final byte[] OPAQUE_MARKER_BYTES = OPAQUE_MARKER.getBytes(StandardCharsets.UTF_8);
  private static final String STRUCT_URL = ProtoTypes.typeUrl(Struct.getDescriptor());
  /** Well-known types whose JSON form is not an object of their fields: not walked. */
  private static final Set<String> SPECIAL_JSON = Set.of(
      "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue",
      "google.protobuf.Duration", "google.protobuf.Timestamp", "google.protobuf.FieldMask",
      "google.protobuf.Empty", "google.protobuf.DoubleValue", "google.protobuf.FloatValue",
      "google.protobuf.Int64Value", "google.protobuf.UInt64Value", "google.protobuf.Int32Value",
      "google.protobuf.UInt32Value", "google.protobuf.BoolValue", "google.protobuf.StringValue",
      "google.protobuf.BytesValue", "google.protobuf.NullValue");
  private static final Map<Descriptor, Map<String, FieldDescriptor>> FIELDS_BY_JSON_NAME =
      new ConcurrentHashMap<>();

  private final ProtoTypes types;
  private final boolean allowUnknownFields;

  /**
   * @param allowUnknownFields ignore fields the message does not declare (Envoy's
   *     {@code --allow-unknown-static-fields}); otherwise they are errors naming their path
   */
  public ProtoJson(ProtoTypes types, boolean allowUnknownFields) {
    this.types = types;
    this.allowUnknownFields = allowUnknownFields;
  }

  /**
   * Parses {@code json} into a message of {@code prototype}'s type.
   *
   * @throws ConfigException with the field path of the first unknown field or bad value
   */
  @SuppressWarnings("unchecked")
  public <T extends Message> T parse(JsonElement json, T prototype) {
    JsonElement copy = json.deepCopy();
    Descriptor type = prototype.getDescriptorForType();
    int opaque = walk(copy, type, "", false);
    Message.Builder builder = prototype.newBuilderForType();
    try {
      // The walk looked up every Any's type, so the types loaded so far are enough.
      parser().merge(copy.toString(), builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      String path = locate(copy, type, "", false);
      throw new ConfigException(path, reason(e), e);
    }
    Message message = builder.build();
    return (T) (opaque == 0 ? message : restore(message));
  }

  private JsonFormat.Parser parser() {
    return types.loadedParser(allowUnknownFields);
  }

  private static String reason(Exception e) {
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m.replace('\n', ' ');
  }

  // ---- pass 1: unknown fields and Anys of unknown type ----

  /** Checks field names and rewrites opaque Anys in place; returns how many were rewritten. */
  private int walk(JsonElement json, Descriptor type, String path, boolean insideAny) {
    if (type.equals(Any.getDescriptor())) {
      return json.isJsonObject() ? walkAny(json.getAsJsonObject(), path) : 0;
    }
    if (SPECIAL_JSON.contains(type.getFullName()) || !json.isJsonObject()) {
      return 0; // JsonFormat reports a wrong shape; there is no deeper path to give
    }
    int opaque = 0;
    for (Map.Entry<String, JsonElement> e : json.getAsJsonObject().entrySet()) {
      String key = e.getKey();
      if (insideAny && key.equals("@type")) {
        continue;
      }
      FieldDescriptor field = field(type, key);
      if (field == null) {
        if (!allowUnknownFields) {
          throw new ConfigException(child(path, key), "unknown field in " + type.getFullName());
        }
        continue;
      }
      opaque += walkField(e.getValue(), field, child(path, field.getName()));
    }
    return opaque;
  }

  private int walkField(JsonElement value, FieldDescriptor field, String path) {
    if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE || value.isJsonNull()) {
      return 0;
    }
    if (field.isMapField()) {
      FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
      if (valueField.getJavaType() != FieldDescriptor.JavaType.MESSAGE || !value.isJsonObject()) {
        return 0;
      }
      int opaque = 0;
      for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
        opaque += walk(e.getValue(), valueField.getMessageType(), path + "[" + e.getKey() + "]", false);
      }
      return opaque;
    }
    if (field.isRepeated()) {
      if (!value.isJsonArray()) {
        return 0;
      }
      JsonArray array = value.getAsJsonArray();
      int opaque = 0;
      for (int i = 0; i < array.size(); i++) {
        opaque += walk(array.get(i), field.getMessageType(), path + "[" + i + "]", false);
      }
      return opaque;
    }
    return walk(value, field.getMessageType(), path, false);
  }

  private int walkAny(JsonObject any, String path) {
    JsonElement typeUrl = any.get("@type");
    if (typeUrl == null || !typeUrl.isJsonPrimitive()) {
      return 0;
    }
    String url = typeUrl.getAsString();
    Descriptor type = types.find(url);
    if (type != null) {
      return SPECIAL_JSON.contains(type.getFullName()) ? 0 : walk(any, type, path, true);
    }
    if (url.indexOf('/') < 0) {
      return 0; // not a type URL: JsonFormat's error says so
    }
    // Unknown type (Istio's own extensions): carry the payload as a Struct tagged with the URL.
    JsonObject payload = new JsonObject();
    payload.addProperty(OPAQUE_MARKER, url);
    for (Map.Entry<String, JsonElement> e : any.entrySet()) {
      if (!e.getKey().equals("@type")) {
        payload.add(e.getKey(), e.getValue());
      }
    }
    for (String key : List.copyOf(any.keySet())) {
      any.remove(key);
    }
    any.add("@type", new JsonPrimitive(STRUCT_URL));
    any.add("value", payload);
    return 1;
  }

  private static @Nullable FieldDescriptor field(Descriptor type, String jsonKey) {
    FieldDescriptor f = type.findFieldByName(jsonKey);
    if (f != null) {
      return f;
    }
    return FIELDS_BY_JSON_NAME.computeIfAbsent(type, t -> {
      Map<String, FieldDescriptor> m = new HashMap<>();
      for (FieldDescriptor fd : t.getFields()) {
        m.put(fd.getJsonName(), fd);
      }
      return Map.copyOf(m);
    }).get(jsonKey);
  }

  private static String child(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  // ---- on failure: narrow JsonFormat's error down to a field path ----

  /** The deepest path under {@code path} whose value alone fails to parse (JSON already walked). */
  private String locate(JsonElement json, Descriptor type, String path, boolean insideAny) {
    if (type.equals(Any.getDescriptor()) && json.isJsonObject()) {
      JsonElement url = json.getAsJsonObject().get("@type");
      Descriptor inner = url != null && url.isJsonPrimitive() ? types.find(url.getAsString()) : null;
      return inner == null || SPECIAL_JSON.contains(inner.getFullName())
          ? path : locate(json, inner, path, true);
    }
    if (SPECIAL_JSON.contains(type.getFullName()) || !json.isJsonObject()) {
      return path;
    }
    for (Map.Entry<String, JsonElement> e : json.getAsJsonObject().entrySet()) {
      FieldDescriptor field = insideAny && e.getKey().equals("@type") ? null : field(type, e.getKey());
      if (field == null || parses(e.getKey(), e.getValue(), type)) {
        continue;
      }
      String p = child(path, field.getName());
      JsonElement v = e.getValue();
      boolean message = field.getJavaType() == FieldDescriptor.JavaType.MESSAGE;
      if (field.isMapField() && v.isJsonObject()) {
        FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
        for (Map.Entry<String, JsonElement> entry : v.getAsJsonObject().entrySet()) {
          JsonObject one = new JsonObject();
          one.add(entry.getKey(), entry.getValue());
          if (!parses(e.getKey(), one, type)) {
            String mp = p + "[" + entry.getKey() + "]";
            return valueField.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                ? locate(entry.getValue(), valueField.getMessageType(), mp, false) : mp;
          }
        }
      } else if (field.isRepeated() && v.isJsonArray()) {
        JsonArray array = v.getAsJsonArray();
        for (int i = 0; i < array.size(); i++) {
          JsonArray one = new JsonArray();
          one.add(array.get(i));
          if (!parses(e.getKey(), one, type)) {
            String ip = p + "[" + i + "]";
            return message ? locate(array.get(i), field.getMessageType(), ip, false) : ip;
          }
        }
      } else if (message) {
        return locate(v, field.getMessageType(), p, false);
      }
      return p;
    }
    return path;
  }

  private boolean parses(String key, JsonElement value, Descriptor type) {
    JsonObject one = new JsonObject();
    one.add(key, value);
    try {
      parser().merge(one.toString(), DynamicMessage.newBuilder(type));
      return true;
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return false;
    }
  }

  // ---- pass 2: placeholder Structs back to Anys with their original type URL ----

  private Message restore(Message message) {
    Message.Builder builder = null;
    for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
      FieldDescriptor field = e.getKey();
      if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (field.isRepeated()) {
        List<?> values = (List<?>) e.getValue();
        for (int i = 0; i < values.size(); i++) {
          Message v = (Message) values.get(i);
          Message r = restoreValue(v);
          if (r != v) {
            builder = builder == null ? message.toBuilder() : builder;
            builder.setRepeatedField(field, i, r);
          }
        }
      } else {
        Message v = (Message) e.getValue();
        Message r = restoreValue(v);
        if (r != v) {
          builder = builder == null ? message.toBuilder() : builder;
          builder.setField(field, r);
        }
      }
    }
    return builder == null ? message : builder.build();
  }

  private Message restoreValue(Message value) {
    if (!value.getDescriptorForType().equals(Any.getDescriptor())) {
      return restore(value);
    }
    try {
      Any any = value instanceof Any a ? a : Any.parseFrom(value.toByteString());
      if (!contains(any.getValue(), OPAQUE_MARKER_BYTES)) {
        return value;
      }
      if (any.getTypeUrl().equals(STRUCT_URL)) {
        Struct struct = Struct.parseFrom(any.getValue());
        Value url = struct.getFieldsMap().get(OPAQUE_MARKER);
        if (url != null) {
          Struct payload = struct.toBuilder().removeFields(OPAQUE_MARKER).build();
          return Any.newBuilder().setTypeUrl(url.getStringValue()).setValue(payload.toByteString()).build();
        }
      }
      Descriptor type = types.find(any.getTypeUrl());
      if (type == null) {
        return value;
      }
      Message inner = restore(DynamicMessage.parseFrom(type, any.getValue()));
      return Any.newBuilder().setTypeUrl(any.getTypeUrl()).setValue(inner.toByteString()).build();
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("re-reading a message just built", e);
    }
  }

  private static boolean contains(ByteString haystack, byte[] needle) {
    int last = haystack.size() - needle.length;
    outer:
    for (int i = 0; i <= last; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack.byteAt(i + j) != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
