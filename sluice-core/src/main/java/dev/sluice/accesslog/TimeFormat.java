package dev.sluice.accesslog;

import java.util.ArrayList;
import java.util.List;

/**
 * A strftime-style time format as Envoy's {@code %START_TIME(...)%} takes it (absl::FormatTime plus
 * Envoy's {@code %s} and {@code %f}/{@code %[1-9]f} fractional seconds). Compiled once into parts;
 * rendering computes the calendar fields arithmetically, without allocating. Specifiers this
 * class does not know are written literally, as strftime leaves them.
 */
final class TimeFormat {
  /** Envoy's default: {@code 2016-04-15T20:17:00.310Z}. */
  static final TimeFormat DEFAULT = compile("%Y-%m-%dT%H:%M:%E3SZ");

  private static final String[] DAYS = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  private static final String[] MONTHS = {
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December"
  };

  private static final int[] CUMULATIVE_DAYS = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

  private enum Field {
    LITERAL, YEAR, CENTURY, YEAR2, MONTH, DAY, DAY_SPACE, HOUR, HOUR12, MINUTE, SECOND, AM_PM,
    DAY_OF_YEAR, WEEKDAY_SHORT, WEEKDAY_LONG, MONTH_SHORT, MONTH_LONG, WEEKDAY_MON1, WEEKDAY_SUN0,
    ZONE_OFFSET, ZONE_NAME, EPOCH_SECONDS, FRACTION, SECOND_FRACTION
  }

  /** One part: a field, its digit count for fractions (-1: trimmed), or a literal. */
  private record Part(Field field, int digits, String literal) {}

  private final Part[] parts;

  private TimeFormat(Part[] parts) {
    this.parts = parts;
  }

  static TimeFormat compile(String format) {
    List<Part> parts = new ArrayList<>();
    StringBuilder lit = new StringBuilder();
    int i = 0;
    while (i < format.length()) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 >= format.length()) {
        lit.append(c);
        i++;
        continue;
      }
      char s = format.charAt(i + 1);
      Field f = null;
      int digits = 0;
      int consumed = 2;
      String expansion = null;
      switch (s) {
        case 'Y' -> f = Field.YEAR;
        case 'C' -> f = Field.CENTURY;
        case 'y' -> f = Field.YEAR2;
        case 'm' -> f = Field.MONTH;
        case 'd' -> f = Field.DAY;
        case 'e' -> f = Field.DAY_SPACE;
        case 'H' -> f = Field.HOUR;
        case 'I' -> f = Field.HOUR12;
        case 'M' -> f = Field.MINUTE;
        case 'S' -> f = Field.SECOND;
        case 'p' -> f = Field.AM_PM;
        case 'j' -> f = Field.DAY_OF_YEAR;
        case 'a' -> f = Field.WEEKDAY_SHORT;
        case 'A' -> f = Field.WEEKDAY_LONG;
        case 'b', 'h' -> f = Field.MONTH_SHORT;
        case 'B' -> f = Field.MONTH_LONG;
        case 'u' -> f = Field.WEEKDAY_MON1;
        case 'w' -> f = Field.WEEKDAY_SUN0;
        case 'z' -> f = Field.ZONE_OFFSET;
        case 'Z' -> f = Field.ZONE_NAME;
        case 's' -> f = Field.EPOCH_SECONDS;
        case 'f' -> {
          f = Field.FRACTION;
          digits = 9;
        }
        case 'F' -> expansion = "%Y-%m-%d";
        case 'T' -> expansion = "%H:%M:%S";
        case 'D' -> expansion = "%m/%d/%y";
        case 'R' -> expansion = "%H:%M";
        case 'n' -> expansion = "\n";
        case 't' -> expansion = "\t";
        case '%' -> expansion = "%";
        default -> {
          if (s >= '1' && s <= '9' && i + 2 < format.length() && format.charAt(i + 2) == 'f') {
            f = Field.FRACTION;
            digits = s - '0';
            consumed = 3;
          } else if (s == 'E' && i + 3 < format.length() && format.charAt(i + 3) == 'S') {
            char n = format.charAt(i + 2);
            if (n == '*' || (n >= '0' && n <= '9')) {
              f = Field.SECOND_FRACTION;
              digits = n == '*' ? -1 : n - '0';
              consumed = 4;
            }
          }
        }
      }
      if (expansion != null) {
        if (expansion.startsWith("%") && expansion.length() > 1) {
          flush(parts, lit);
          parts.addAll(List.of(compile(expansion).parts));
        } else {
          lit.append(expansion);
        }
      } else if (f == null) {
        lit.append(c).append(s);
      } else {
        flush(parts, lit);
        parts.add(new Part(f, digits, ""));
      }
      i += consumed;
    }
    flush(parts, lit);
    return new TimeFormat(parts.toArray(Part[]::new));
  }

  private static void flush(List<Part> parts, StringBuilder lit) {
    if (!lit.isEmpty()) {
      parts.add(new Part(Field.LITERAL, 0, lit.toString()));
      lit.setLength(0);
    }
  }

  /**
   * Appends {@code epochMillis} shifted by {@code offsetSeconds} (0 for UTC); {@code zoneName} is
   * what {@code %Z} prints.
   */
  void append(long epochMillis, int offsetSeconds, String zoneName, StringBuilder out) {
    long epochSecond = Math.floorDiv(epochMillis, 1000L);
    int millis = (int) Math.floorMod(epochMillis, 1000L);
    long local = epochSecond + offsetSeconds;
    long days = Math.floorDiv(local, 86400L);
    int secOfDay = (int) Math.floorMod(local, 86400L);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    long z = days + 719468;
    long era = Math.floorDiv(z, 146097);
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doyMar = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doyMar + 2) / 153;
    int day = (int) (doyMar - (153 * mp + 2) / 5 + 1);
    int month = (int) (mp < 10 ? mp + 3 : mp - 9);
    long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    int hour = secOfDay / 3600;
    int minute = secOfDay / 60 % 60;
    int second = secOfDay % 60;
    int weekday = (int) Math.floorMod(days + 4, 7L); // 1970-01-01 was a Thursday; Sunday = 0
    for (Part p : parts) {
      switch (p.field) {
        case LITERAL -> out.append(p.literal);
        case YEAR -> pad(out, year, 4);
        case CENTURY -> pad(out, Math.floorDiv(year, 100), 2);
        case YEAR2 -> pad(out, Math.floorMod(year, 100), 2);
        case MONTH -> pad(out, month, 2);
        case DAY -> pad(out, day, 2);
        case DAY_SPACE -> out.append(day < 10 ? " " : "").append(day);
        case HOUR -> pad(out, hour, 2);
        case HOUR12 -> pad(out, hour % 12 == 0 ? 12 : hour % 12, 2);
        case MINUTE -> pad(out, minute, 2);
        case SECOND -> pad(out, second, 2);
        case AM_PM -> out.append(hour < 12 ? "AM" : "PM");
        case DAY_OF_YEAR -> pad(out, dayOfYear(year, month, day), 3);
        case WEEKDAY_SHORT -> out.append(DAYS[weekday], 0, 3);
        case WEEKDAY_LONG -> out.append(DAYS[weekday]);
        case MONTH_SHORT -> out.append(MONTHS[month - 1], 0, 3);
        case MONTH_LONG -> out.append(MONTHS[month - 1]);
        case WEEKDAY_MON1 -> out.append(weekday == 0 ? 7 : weekday);
        case WEEKDAY_SUN0 -> out.append(weekday);
        case ZONE_OFFSET -> {
          int abs = Math.abs(offsetSeconds);
          out.append(offsetSeconds < 0 ? '-' : '+');
          pad(out, abs / 3600, 2);
          pad(out, abs / 60 % 60, 2);
        }
        case ZONE_NAME -> out.append(zoneName);
        case EPOCH_SECONDS -> out.append(epochSecond);
        case FRACTION -> fraction(out, millis, p.digits);
        case SECOND_FRACTION -> {
          pad(out, second, 2);
          if (p.digits == -1) {
            if (millis != 0) {
              out.append('.');
              int m = millis;
              int len = 3;
              while (m % 10 == 0) {
                m /= 10;
                len--;
              }
              pad(out, m, len);
            }
          } else if (p.digits > 0) {
            out.append('.');
            fraction(out, millis, p.digits);
          }
        }
      }
    }
  }

  /** The first {@code digits} digits of the fraction of a second (nanosecond scale, 9 digits). */
  private static void fraction(StringBuilder out, int millis, int digits) {
    long nanos = millis * 1_000_000L;
    long scaled = nanos;
    for (int i = 9; i > digits; i--) {
      scaled /= 10;
    }
    pad(out, scaled, digits);
  }

  private static int dayOfYear(long year, int month, int day) {
    boolean leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return CUMULATIVE_DAYS[month - 1] + day + (leap && month > 2 ? 1 : 0);
  }

  private static void pad(StringBuilder out, long value, int width) {
    if (value < 0) {
      out.append('-');
      value = -value;
    }
    long limit = 1;
    for (int i = 1; i < width; i++) {
      limit *= 10;
    }
    while (limit > 1 && value < limit) {
      out.append('0');
      limit /= 10;
    }
    out.append(value);
  }
}
