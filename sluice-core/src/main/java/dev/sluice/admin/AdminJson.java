package dev.sluice.admin;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

/**
 * Proto-to-JSON as Envoy's admin prints it: proto field names, pretty-printed with Envoy's
 * one-space indentation (protobuf C++'s JSON printer), Any expanded through a type registry.
 */
final class AdminJson {
  private AdminJson() {}

  static String print(MessageOrBuilder message, JsonFormat.TypeRegistry registry,
      boolean includeDefaults) throws InvalidProtocolBufferException {
    JsonFormat.Printer printer =
        JsonFormat.printer().usingTypeRegistry(registry).preservingProtoFieldNames();
    if (includeDefaults) {
      printer = printer.includingDefaultValueFields();
    }
    return oneSpaceIndent(printer.print(message)) + "\n";
  }

  /**
   * Halves each line's leading indentation: JsonFormat indents by two spaces, Envoy by one. Safe
   * because JsonFormat escapes newlines inside strings, so leading spaces are always indentation.
   */
  static String oneSpaceIndent(String json) {
    StringBuilder out = new StringBuilder(json.length());
    for (String line : json.split("\n", -1)) {
      int spaces = 0;
      while (spaces < line.length() && line.charAt(spaces) == ' ') {
        spaces++;
      }
      if (!out.isEmpty()) {
        out.append('\n');
      }
      out.append(" ".repeat(spaces / 2)).append(line, spaces, line.length());
    }
    return out.toString();
  }
}
