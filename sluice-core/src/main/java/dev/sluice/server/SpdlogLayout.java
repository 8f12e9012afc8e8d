package dev.sluice.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A logback layout that formats lines with Envoy's {@code --log-format} syntax (spdlog pattern
 * flags plus Envoy's {@code %_} and {@code %j}), so Istio's and operators' formats work unchanged.
 * The pattern is compiled once into segments; a line is one pass over them.
 *
 * <p>Differences from Envoy, by necessity: {@code %t} is the Java thread name (Envoy prints the OS
 * thread id); {@code %n} is the Envoy component for {@code sluice.<component>} loggers and the
 * class's simple name otherwise; there is no source location without walking the stack, so
 * {@code %@ %s %g %# %!} print nothing, which is what spdlog prints when a message carries no
 * location. Times are local, as spdlog's default.
 */
public final class SpdlogLayout extends LayoutBase<ILoggingEvent> {
  /** Envoy's default format without the source location (see class comment). */
  public static final String DEFAULT_FORMAT = "[%Y-%m-%d %T.%e][%t][%l][%n] %v";
  /** spdlog's {@code %+}. */
  private static final String SPDLOG_FULL = "[%Y-%m-%d %H:%M:%S.%e] [%n] [%l] %v";

  private String pattern = DEFAULT_FORMAT;
  private List<Segment> segments = compile(DEFAULT_FORMAT);
  private final ZoneId zone;
  private final AtomicLong previousNanos = new AtomicLong();

  public SpdlogLayout() {
    this(ZoneId.systemDefault());
  }

  /** For tests: a fixed time zone. */
  SpdlogLayout(ZoneId zone) {
    this.zone = zone;
  }

  /** Sets the spdlog-style pattern (also the logback.xml {@code <pattern>} property). */
  public void setPattern(String pattern) {
    this.segments = compile(pattern);
    this.pattern = pattern;
  }

  public String getPattern() {
    return pattern;
  }

  @Override
  public String doLayout(ILoggingEvent event) {
    Line line = new Line(event, ZonedDateTime.ofInstant(event.getInstant(), zone));
    long nanos = event.getInstant().getEpochSecond() * 1_000_000_000L + event.getInstant().getNano();
    line.sincePrevious = Math.max(0, nanos - previousNanos.getAndSet(nanos));
    StringBuilder out = new StringBuilder(128);
    for (Segment s : segments) {
      s.append(out, line);
    }
    out.append('\n');
    IThrowableProxy thrown = event.getThrowableProxy();
    if (thrown != null) {
      out.append(ThrowableProxyUtil.asString(thrown)).append('\n');
    }
    return out.toString();
  }

  /** The Envoy level name: trace, debug, info, warning, error, off. */
  static String levelName(Level level) {
    return switch (level.toInt()) {
      case Level.TRACE_INT -> "trace";
      case Level.DEBUG_INT -> "debug";
      case Level.INFO_INT -> "info";
      case Level.WARN_INT -> "warning";
      case Level.ERROR_INT -> "error";
      default -> "off";
    };
  }

  /** The Envoy component name of a logger: {@code sluice.router} -> {@code router}. */
  static String component(String loggerName) {
    if (loggerName.startsWith(Logging.PREFIX)) {
      return loggerName.substring(Logging.PREFIX.length());
    }
    return loggerName.substring(loggerName.lastIndexOf('.') + 1);
  }

  private static final class Line {
    final ILoggingEvent event;
    final ZonedDateTime time;
    long sincePrevious;

    Line(ILoggingEvent event, ZonedDateTime time) {
      this.event = event;
      this.time = time;
    }
  }

  @FunctionalInterface
  private interface Segment {
    void append(StringBuilder out, Line line);
  }

  private interface Field {
    String text(Line line);
  }

  /** Compiles an spdlog pattern: {@code %[-|=][width][!]flag}; unknown flags print as written. */
  static List<Segment> compile(String pattern) {
    List<Segment> out = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    int i = 0;
    while (i < pattern.length()) {
      char c = pattern.charAt(i);
      if (c != '%' || i + 1 >= pattern.length()) {
        literal.append(c);
        i++;
        continue;
      }
      int j = i + 1;
      char align = '>';
      if (pattern.charAt(j) == '-' || pattern.charAt(j) == '=') {
        align = pattern.charAt(j) == '-' ? '<' : '=';
        j++;
      }
      int width = 0;
      while (j < pattern.length() && Character.isDigit(pattern.charAt(j))) {
        width = Math.min(64, width * 10 + (pattern.charAt(j) - '0'));
        j++;
      }
      boolean truncate = j < pattern.length() && pattern.charAt(j) == '!' && width > 0;
      if (truncate) {
        j++;
      }
      if (j >= pattern.length()) {
        literal.append(pattern, i, j);
        break;
      }
      char flag = pattern.charAt(j);
      i = j + 1;
      if (flag == '+') {
        flushLiteral(literal, out);
        out.addAll(compile(SPDLOG_FULL));
        continue;
      }
      if (flag == '^' || flag == '$') {
        continue; // colour range: no colours here
      }
      if (flag == '%') {
        literal.append('%');
        continue;
      }
      Field field = field(flag);
      if (field == null) {
        literal.append('%').append(flag); // as spdlog: an unknown flag is printed as written
        continue;
      }
      flushLiteral(literal, out);
      out.add(width == 0 ? (o, l) -> o.append(field.text(l)) : padded(field, width, align, truncate));
    }
    flushLiteral(literal, out);
    return List.copyOf(out);
  }

  private static void flushLiteral(StringBuilder literal, List<Segment> out) {
    if (!literal.isEmpty()) {
      String text = literal.toString();
      out.add((o, l) -> o.append(text));
      literal.setLength(0);
    }
  }

  private static Segment padded(Field field, int width, char align, boolean truncate) {
    return (o, l) -> {
      String text = field.text(l);
      if (text.length() >= width) {
        o.append(truncate ? text.substring(0, width) : text);
        return;
      }
      int pad = width - text.length();
      int left = align == '>' ? pad : align == '=' ? pad / 2 : 0;
      o.repeat(' ', left).append(text).repeat(' ', pad - left);
    };
  }

  private static final DateTimeFormatter CTIME =
      DateTimeFormatter.ofPattern("EEE MMM dd HH:mm:ss yyyy", Locale.ENGLISH);

  private static Field field(char flag) {
    return switch (flag) {
      case 'v' -> l -> l.event.getFormattedMessage();
      case '_' -> l -> escapeNewlines(l.event.getFormattedMessage());
      case 'j' -> l -> jsonEscape(l.event.getFormattedMessage());
      case 't' -> l -> l.event.getThreadName();
      case 'P' -> l -> Long.toString(ProcessHandle.current().pid());
      case 'n' -> l -> component(l.event.getLoggerName());
      case 'l' -> l -> levelName(l.event.getLevel());
      case 'L' -> l -> levelName(l.event.getLevel()).substring(0, 1).toUpperCase(Locale.ROOT);
      case 'a' -> l -> l.time.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
      case 'A' -> l -> l.time.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
      case 'b', 'h' -> l -> l.time.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
      case 'B' -> l -> l.time.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
      case 'c' -> l -> CTIME.format(l.time);
      case 'C' -> l -> two(l.time.getYear() % 100);
      case 'Y' -> l -> Integer.toString(l.time.getYear());
      case 'D' -> l -> two(l.time.getMonthValue()) + "/" + two(l.time.getDayOfMonth()) + "/"
          + two(l.time.getYear() % 100);
      case 'x' -> l -> two(l.time.getMonthValue()) + "/" + two(l.time.getDayOfMonth()) + "/"
          + two(l.time.getYear() % 100);
      case 'm' -> l -> two(l.time.getMonthValue());
      case 'd' -> l -> two(l.time.getDayOfMonth());
      case 'H' -> l -> two(l.time.getHour());
      case 'I' -> l -> two(hour12(l.time));
      case 'M' -> l -> two(l.time.getMinute());
      case 'S' -> l -> two(l.time.getSecond());
      case 'e' -> l -> pad(l.time.getNano() / 1_000_000, 3);
      case 'f' -> l -> pad(l.time.getNano() / 1_000, 6);
      case 'F' -> l -> pad(l.time.getNano(), 9);
      case 'p' -> l -> l.time.getHour() < 12 ? "AM" : "PM";
      case 'r' -> l -> two(hour12(l.time)) + ":" + two(l.time.getMinute()) + ":"
          + two(l.time.getSecond()) + " " + (l.time.getHour() < 12 ? "AM" : "PM");
      case 'R' -> l -> two(l.time.getHour()) + ":" + two(l.time.getMinute());
      case 'T', 'X' -> l -> two(l.time.getHour()) + ":" + two(l.time.getMinute()) + ":"
          + two(l.time.getSecond());
      case 'z' -> l -> offset(l.time);
      case 'E' -> l -> Long.toString(l.time.toEpochSecond());
      case 'o' -> l -> Long.toString(l.sincePrevious / 1_000_000);
      case 'i' -> l -> Long.toString(l.sincePrevious / 1_000);
      case 'u' -> l -> Long.toString(l.sincePrevious);
      case 'O' -> l -> Long.toString(l.sincePrevious / 1_000_000_000);
      case '@', 's', 'g', '#', '!' -> l -> ""; // no source location (class comment)
      default -> null;
    };
  }

  private static int hour12(ZonedDateTime t) {
    int h = t.getHour() % 12;
    return h == 0 ? 12 : h;
  }

  private static String two(int v) {
    return v < 10 ? "0" + v : Integer.toString(v);
  }

  private static String pad(int v, int digits) {
    String s = Integer.toString(v);
    return "0".repeat(Math.max(0, digits - s.length())) + s;
  }

  private static String offset(ZonedDateTime t) {
    int seconds = t.getOffset().getTotalSeconds();
    char sign = seconds < 0 ? '-' : '+';
    int abs = Math.abs(seconds) / 60;
    return sign + two(abs / 60) + ":" + two(abs % 60);
  }

  /** Envoy's {@code %_}: the message with C-style escapes for control characters, on one line. */
  static String escapeNewlines(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /** Envoy's {@code %j}: the message escaped for a JSON string (without the quotes). */
  static String jsonEscape(String s) {
    StringBuilder out = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
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
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }
}
