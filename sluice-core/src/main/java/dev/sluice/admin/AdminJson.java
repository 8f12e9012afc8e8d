package dev.sluice.admin;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

/**
 * Proto-to-JSON as Envoy's admin prints it: proto field names, pretty-printed in the layout of
 * protobuf C++'s JSON printer (one-space indentation), Any expanded through a type registry.
 */
final class AdminJson {
  private AdminJson() {}

  static String print(MessageOrBuilder message, JsonFormat.TypeRegistry registry,
      boolean includeDefaults) throws InvalidProtocolBufferException {
    JsonFormat.Printer printer = JsonFormat.printer().usingTypeRegistry(registry)
        .preservingProtoFieldNames().omittingInsignificantWhitespace();
    if (includeDefaults) {
      printer = printer.includingDefaultValueFields();
    }
    return pretty(printer.print(message)) + "\n";
  }

  /**
   * Re-indents compact JSON the way protobuf C++'s printer does: one space per level, every
   * object member and array element on its own line, empty containers kept as {@code {}} and
   * {@code []}.
   */
  static String pretty(String compact) {
    StringBuilder out = new StringBuilder(compact.length() * 2);
    int depth = 0;
    boolean inString = false;
    for (int i = 0; i < compact.length(); i++) {
      char c = compact.charAt(i);
      if (inString) {
        out.append(c);
        if (c == '\\') {
          out.append(compact.charAt(++i));
        } else if (c == '"') {
          inString = false;
        }
        continue;
      }
      switch (c) {
        case '"' -> {
          inString = true;
          out.append(c);
        }
        case '{', '[' -> {
          char close = c == '{' ? '}' : ']';
          if (i + 1 < compact.length() && compact.charAt(i + 1) == close) {
            out.append(c).append(close);
            i++;
          } else {
            depth++;
            out.append(c).append('\n').append(" ".repeat(depth));
          }
        }
        case '}', ']' -> {
          depth--;
          out.append('\n').append(" ".repeat(depth)).append(c);
        }
        case ',' -> out.append(",\n").append(" ".repeat(depth));
        case ':' -> out.append(": ");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
