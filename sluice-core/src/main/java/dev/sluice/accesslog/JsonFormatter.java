package dev.sluice.accesslog;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import java.util.ArrayList;
import java.util.List;

/**
 * Envoy's format dictionaries ({@code json_format}, legacy {@code typed_json_format}): one compact
 * JSON object per line. Each string value is a format string. When typed, a value that is exactly
 * one operator keeps its type (a number for codes, bytes, durations; {@code null} when absent);
 * untyped (legacy {@code FileAccessLog.json_format}) every value is a string and absent is "-".
 * With {@code omit_empty_values} keys whose value is absent are left out.
 */
final class JsonFormatter implements SubstitutionFormatter {
  private final Node root;

  private JsonFormatter(Node root) {
    this.root = root;
  }

  static JsonFormatter compile(Struct format, boolean typed, boolean omitEmptyValues, boolean sortProperties) {
    return new JsonFormatter(object(format, typed, omitEmptyValues, sortProperties, ""));
  }

  @Override
  public String format(StreamInfo info) {
    StringBuilder out = new StringBuilder(512);
    root.append(info, out);
    return out.append('\n').toString();
  }

  /** A compiled JSON value; {@link #append} returns false when it wrote nothing (absent, omitted). */
  private interface Node {
    boolean append(StreamInfo info, StringBuilder out);
  }

  private static Node object(Struct s, boolean typed, boolean omit, boolean sort, String path) {
    List<String> keys = new ArrayList<>(s.getFieldsMap().keySet());
    if (sort) {
      keys.sort(null);
    }
    String[] prefixes = new String[keys.size()];
    Node[] values = new Node[keys.size()];
    for (int i = 0; i < keys.size(); i++) {
      String key = keys.get(i);
      StringBuilder k = new StringBuilder();
      appendString(key, k);
      prefixes[i] = k.append(':').toString();
      values[i] = value(s.getFieldsMap().get(key), typed, omit, sort, path.isEmpty() ? key : path + "." + key);
    }
    return (info, out) -> {
      out.append('{');
      boolean first = true;
      for (int i = 0; i < values.length; i++) {
        int mark = out.length();
        if (!first) {
          out.append(',');
        }
        out.append(prefixes[i]);
        if (values[i].append(info, out)) {
          first = false;
        } else if (omit) {
          out.setLength(mark);
        } else {
          out.append("null");
          first = false;
        }
      }
      out.append('}');
      return true;
    };
  }

  private static Node value(Value v, boolean typed, boolean omit, boolean sort, String path) {
    return switch (v.getKindCase()) {
      case STRUCT_VALUE -> object(v.getStructValue(), typed, omit, sort, path);
      case LIST_VALUE -> list(v.getListValue(), typed, omit, sort, path);
      case STRING_VALUE -> template(v.getStringValue(), typed, omit, path);
      case NUMBER_VALUE -> constant(number(v.getNumberValue()));
      case BOOL_VALUE -> constant(Boolean.toString(v.getBoolValue()));
      case NULL_VALUE, KIND_NOT_SET -> constant("null");
    };
  }

  private static Node list(ListValue l, boolean typed, boolean omit, boolean sort, String path) {
    Node[] items = new Node[l.getValuesCount()];
    for (int i = 0; i < items.length; i++) {
      items[i] = value(l.getValues(i), typed, omit, sort, path + "[" + i + "]");
    }
    return (info, out) -> {
      out.append('[');
      for (int i = 0; i < items.length; i++) {
        if (i > 0) {
          out.append(',');
        }
        if (!items[i].append(info, out)) {
          out.append("null");
        }
      }
      out.append(']');
      return true;
    };
  }

  private static Node constant(String json) {
    return (info, out) -> {
      out.append(json);
      return true;
    };
  }

  private static Node template(String format, boolean typed, boolean omit, String path) {
    FormatTemplate t;
    try {
      t = FormatTemplate.parse(format);
    } catch (ConfigException e) {
      throw e.under(path);
    }
    FormatTemplate.Segment sole = t.soleOperator();
    if (sole != null && (typed || omit)) {
      CommandOperator op = sole.op();
      int maxLength = sole.maxLength();
      boolean number = typed && op != null && op.numeric();
      String absent = typed ? null : "\"-\"";
      return (info, out) -> {
        int mark = out.length();
        if (number) {
          if (FormatTemplate.appendOperator(op, maxLength, info, out)) {
            return true;
          }
        } else {
          out.append('"');
          if (FormatTemplate.appendOperator(op, maxLength, info, out)) {
            escapeFrom(out, mark + 1);
            out.append('"');
            return true;
          }
          out.setLength(mark);
        }
        if (omit || absent == null) {
          return false; // omitted, or JSON null
        }
        out.append(absent);
        return true;
      };
    }
    String absentText = omit ? "" : "-";
    return (info, out) -> {
      out.append('"');
      int start = out.length();
      t.append(info, out, absentText);
      escapeFrom(out, start);
      out.append('"');
      return true;
    };
  }

  /** A JSON number as Envoy prints a double: integral values without a fraction. */
  private static String number(double d) {
    if (d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return Double.toString(d);
  }

  static void appendString(String s, StringBuilder out) {
    out.append('"');
    int start = out.length();
    out.append(s);
    escapeFrom(out, start);
    out.append('"');
  }

  /** JSON-escapes {@code out} from {@code start} in place (only rebuilt when something needs it). */
  static void escapeFrom(StringBuilder out, int start) {
    int i = start;
    int n = out.length();
    while (i < n) {
      char c = out.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\') {
        break;
      }
      i++;
    }
    if (i == n) {
      return;
    }
    String tail = out.substring(i);
    out.setLength(i);
    for (int j = 0; j < tail.length(); j++) {
      char c = tail.charAt(j);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) {
            out.append("\\u00");
            out.append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
          } else {
            out.append(c);
          }
        }
      }
    }
  }
}
