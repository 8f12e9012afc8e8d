package dev.sluice.accesslog;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A format string compiled into literal and operator segments, following Envoy's grammar:
 * {@code %COMMAND%}, {@code %COMMAND(arg)%} (the argument cannot contain ')'), an optional
 * {@code :N} truncating the value to N characters, and {@code %%} for a literal '%'.
 */
final class FormatTemplate {
  /** A literal (op null) or an operator with its max length (-1: none). */
  record Segment(String literal, @Nullable CommandOperator op, int maxLength) {}

  private final Segment[] segments;

  private FormatTemplate(Segment[] segments) {
    this.segments = segments;
  }

  /** @throws ConfigException (empty path) naming the bad command or position */
  static FormatTemplate parse(String format) {
    List<Segment> out = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    int pos = 0;
    int n = format.length();
    while (pos < n) {
      char c = format.charAt(pos);
      if (c != '%') {
        literal.append(c);
        pos++;
        continue;
      }
      if (pos + 1 < n && format.charAt(pos + 1) == '%') {
        literal.append('%');
        pos += 2;
        continue;
      }
      int j = pos + 1;
      while (j < n && isCommandChar(format.charAt(j))) {
        j++;
      }
      String command = format.substring(pos + 1, j);
      String arg = null;
      if (j < n && format.charAt(j) == '(') {
        int close = format.indexOf(')', j);
        if (close < 0) {
          throw invalid(format, pos);
        }
        arg = format.substring(j + 1, close);
        j = close + 1;
      }
      int maxLength = -1;
      if (j < n && format.charAt(j) == ':') {
        int digits = j + 1;
        while (digits < n && Character.isDigit(format.charAt(digits))) {
          digits++;
        }
        if (digits == j + 1 || digits - j > 10) {
          throw invalid(format, pos);
        }
        maxLength = Integer.parseInt(format, j + 1, digits, 10);
        j = digits;
      }
      if (command.isEmpty() || j >= n || format.charAt(j) != '%') {
        throw invalid(format, pos);
      }
      if (!literal.isEmpty()) {
        out.add(new Segment(literal.toString(), null, -1));
        literal.setLength(0);
      }
      out.add(new Segment("", CommandOperators.create(command, arg), maxLength));
      pos = j + 1;
    }
    if (!literal.isEmpty()) {
      out.add(new Segment(literal.toString(), null, -1));
    }
    return new FormatTemplate(out.toArray(Segment[]::new));
  }

  private static boolean isCommandChar(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }

  private static ConfigException invalid(String format, int pos) {
    return new ConfigException(
        "", "Incorrect configuration: " + format + ". Couldn't find valid command at position " + pos);
  }

  /** Renders every segment; an absent value becomes {@code absent} ("-", or "" when omitted). */
  void append(StreamInfo info, StringBuilder out, String absent) {
    for (Segment s : segments) {
      CommandOperator op = s.op;
      if (op == null) {
        out.append(s.literal);
      } else if (!appendOperator(op, s.maxLength, info, out)) {
        out.append(absent);
      }
    }
  }

  /** The template's only segment when it is a single operator (typed JSON values), else null. */
  @Nullable Segment soleOperator() {
    return segments.length == 1 && segments[0].op != null ? segments[0] : null;
  }

  /** Appends one operator's value truncated to {@code maxLength}; false if absent. */
  static boolean appendOperator(CommandOperator op, int maxLength, StreamInfo info, StringBuilder out) {
    int start = out.length();
    if (!op.append(info, out)) {
      return false;
    }
    if (maxLength >= 0 && out.length() - start > maxLength) {
      out.setLength(start + maxLength);
    }
    return true;
  }
}
