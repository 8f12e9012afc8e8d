package dev.sluice.extensions.filters.passthrough;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.config.ConfigException;

/** Shape checks of an opaque config's JSON fields (the types its Istio proto declares). */
public final class StructFields {
  private StructFields() {}

  /** @throws ConfigException when {@code field} is present and not of {@code kind} */
  public static void requireKind(Struct struct, String field, Value.KindCase kind, String path) {
    Value v = struct.getFieldsMap().get(field);
    if (v != null && v.getKindCase() != kind) {
      throw new ConfigException(path + field, "expected " + describe(kind) + " but got " + describe(v.getKindCase()));
    }
  }

  private static String describe(Value.KindCase kind) {
    return switch (kind) {
      case STRING_VALUE -> "a string";
      case BOOL_VALUE -> "a boolean";
      case NUMBER_VALUE -> "a number";
      case LIST_VALUE -> "a list";
      case STRUCT_VALUE -> "an object";
      case NULL_VALUE -> "null";
      case KIND_NOT_SET -> "nothing";
    };
  }
}
