package dev.sluice.admin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * {@code /logging} (POST, as in Envoy): with no parameter lists the loggers; {@code ?level=x}
 * sets all, {@code ?name=x} one, {@code ?paths=a:x,b:y} several. A bad request answers 400 with
 * Envoy's usage text, followed by the logger list.
 */
public final class LoggingHandler {
  /** spdlog's level names, in Envoy's order. */
  static final List<String> LEVELS =
      List.of("trace", "debug", "info", "warning", "error", "critical", "off");

  private final LogLevels logLevels;

  public LoggingHandler(LogLevels logLevels) {
    this.logLevels = logLevels;
  }

  public void register(AdminServer admin) {
    admin.register("/logging", "query/change logging levels", true,
        AdminHandler.sync(this::logging));
  }

  AdminResponse logging(AdminRequest request) {
    StringBuilder out = new StringBuilder();
    int status = 200;
    if (!request.query().isEmpty()) {
      String error = change(request.query());
      if (error != null) {
        status = 400;
        out.append("error: ").append(error).append("\n\n")
            .append("usage: /logging?<name>=<level> (change single level)\n")
            .append("usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n")
            .append("usage: /logging?level=<level> (change all levels)\n")
            .append("levels: ");
        LEVELS.forEach(l -> out.append(l).append(' '));
        out.append('\n');
      }
    }
    out.append("active loggers:\n");
    logLevels.levels().forEach((name, level) ->
        out.append("  ").append(name).append(": ").append(level).append('\n'));
    out.append('\n');
    return AdminResponse.text(status, out.toString());
  }

  /** Applies the change; returns the error message, or null when done. */
  private @Nullable String change(QueryParams query) {
    if (query.size() != 1) {
      return "invalid number of parameters";
    }
    Map.Entry<String, String> param = query.firstValues().entrySet().iterator().next();
    String key = param.getKey();
    String value = param.getValue();
    if (key.equals("level")) {
      if (!LEVELS.contains(value)) {
        return "unknown logger level";
      }
      logLevels.setAll(value);
      return null;
    }
    Map<String, String> changes = new LinkedHashMap<>();
    if (key.equals("paths")) {
      for (String pair : value.split(",")) {
        if (pair.isBlank()) {
          continue;
        }
        int colon = pair.indexOf(':');
        String name = colon < 0 ? pair.strip() : pair.substring(0, colon).strip();
        String level = colon < 0 ? "" : pair.substring(colon + 1).strip();
        if (name.isEmpty() || level.isEmpty()) {
          return "empty logger name or empty logger level";
        }
        if (!LEVELS.contains(level)) {
          return "unknown logger level";
        }
        changes.put(name, level);
      }
    } else {
      if (!LEVELS.contains(value)) {
        return "unknown logger level";
      }
      changes.put(key, value);
    }
    return logLevels.set(changes) ? null : "unknown logger name";
  }
}
