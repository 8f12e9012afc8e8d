package dev.sluice.admin;

import java.util.Map;
import java.util.SortedMap;

/**
 * Logger levels for {@code /logging}, with Envoy's level names (trace, debug, info, warning,
 * error, critical, off). Implemented over the logging backend by the server.
 */
public interface LogLevels {
  /** Every logger (component) and its current level name, sorted by logger name. */
  SortedMap<String, String> levels();

  /** Sets every logger to {@code level}. */
  void setAll(String level);

  /**
   * Sets each named logger; changes nothing and returns false if any name is unknown.
   */
  boolean set(Map<String, String> levelByLogger);
}
