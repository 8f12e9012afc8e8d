package dev.sluice.stats;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/** Renders doubles as Envoy's admin output does (fmt and absl formatting). */
final class EnvoyNumbers {
  private EnvoyNumbers() {}

  /**
   * fmt's {@code {}} for a double: the shortest text that reads back to the same value, without a
   * trailing {@code .0}; {@code nan} and {@code inf} as fmt writes them.
   */
  static String shortest(double v) {
    if (Double.isNaN(v)) {
      return "nan";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e16) {
      return Long.toString((long) v);
    }
    return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
  }

  /** C's {@code %.32g} (Prometheus bucket bounds and sums), plain notation in the usual range. */
  static String g32(double v) {
    if (Double.isNaN(v)) {
      return "nan";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    if (v == 0) {
      return "0";
    }
    BigDecimal d = new BigDecimal(v).round(new MathContext(32)).stripTrailingZeros();
    return d.scale() <= 0 ? d.toBigInteger().toString() : d.toPlainString();
  }

  /** absl's StrCat of a double ({@code %.6g} without trailing zeros); JSON null for NaN. */
  static String jsonNumber(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return "null";
    }
    String s = String.format(Locale.ROOT, "%.6g", v);
    int e = s.indexOf('e');
    String mantissa = e < 0 ? s : s.substring(0, e);
    String exponent = e < 0 ? "" : s.substring(e);
    if (mantissa.indexOf('.') >= 0) {
      mantissa = mantissa.replaceAll("0+$", "");
      if (mantissa.endsWith(".")) {
        mantissa = mantissa.substring(0, mantissa.length() - 1);
      }
    }
    return mantissa + exponent;
  }
}
