package dev.sluice.server;

import dev.sluice.admin.LogLevels;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** {@code /logging} over {@link Logging}: Envoy's components are the loggers. */
final class LoggingLevels implements LogLevels {
  @Override
  public SortedMap<String, String> levels() {
    return new TreeMap<>(Logging.levels());
  }

  @Override
  public void setAll(String level) {
    Logging.setAllLevels(level);
  }

  @Override
  public boolean set(Map<String, String> levelByLogger) {
    for (Map.Entry<String, String> e : levelByLogger.entrySet()) {
      if (!Logging.COMPONENTS.contains(e.getKey())) {
        return false; // nothing changed, as the interface promises
      }
      try {
        Logging.checkLevel(e.getValue(), "/logging");
      } catch (IllegalArgumentException bad) {
        return false;
      }
    }
    levelByLogger.forEach(Logging::setLevel);
    return true;
  }
}
