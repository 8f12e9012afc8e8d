package dev.sluice.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Application logging set up as Envoy's: {@code -l} sets every logger, {@code --component-log-level}
 * single components, {@code --log-format} the line format (spdlog syntax, {@link SpdlogLayout}),
 * {@code --log-path} the file (default stderr). Envoy's components are the loggers
 * {@code sluice.<component>} ({@link #logger(String)}); other loggers (per class, libraries) follow
 * the root level. Levels can be changed at run time (admin {@code /logging}).
 */
public final class Logging {
  static final String PREFIX = "sluice.";

  /** Envoy's logger ids ({@code ALL_LOGGER_IDS} in Envoy's {@code source/common/common/logger.h}). */
  public static final List<String> COMPONENTS = List.of(
      "admin", "alternate_protocols_cache", "aws", "assert", "backtrace", "basic_auth",
      "cache_filter", "client", "config", "connection", "conn_handler", "decompression", "dns",
      "dubbo", "envoy_bug", "ext_authz", "ext_proc", "rocketmq", "file", "filter",
      "forward_proxy", "geolocation", "grpc", "happy_eyeballs", "hc", "health_checker", "http",
      "http2", "hystrix", "init", "io", "jwt", "kafka", "key_value_store", "lua", "main",
      "matcher", "misc", "mongo", "multi_connection", "oauth2", "quic", "quic_stream", "pool",
      "rate_limit_quota", "rbac", "rds", "redis", "router", "runtime", "stats", "secret", "tap",
      "testing", "thrift", "tracing", "upstream", "udp", "wasm", "websocket", "golang");

  private static final Map<String, String> LEVEL_NAMES = new ConcurrentHashMap<>();
  static final String APPENDER = "sluice";

  private Logging() {}

  /** The logger of an Envoy component ({@code sluice.<component>}), e.g. {@code logger("upstream")}. */
  public static org.slf4j.Logger logger(String component) {
    return LoggerFactory.getLogger(PREFIX + component);
  }

  /** Applies the command line's logging options, replacing any previous set-up. */
  public static void configure(Options options) {
    configure(options.logLevel(), options.componentLogLevels(), options.logFormat(), options.logPath());
  }

  /**
   * @throws IllegalArgumentException for an unknown level or component
   */
  public static synchronized void configure(String level, Map<String, String> componentLevels,
      @Nullable String format, @Nullable Path logPath) {
    LoggerContext context = context();
    context.reset();
    SpdlogLayout layout = new SpdlogLayout();
    layout.setContext(context);
    layout.setPattern(format == null ? SpdlogLayout.DEFAULT_FORMAT : format);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender;
    if (logPath == null) {
      ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
      console.setTarget("System.err");
      appender = console;
    } else {
      FileAppender<ILoggingEvent> file = new FileAppender<>();
      file.setFile(logPath.toString());
      file.setAppend(true);
      appender = file;
    }
    appender.setName(APPENDER);
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.start();
    if (!appender.isStarted()) {
      throw new IllegalArgumentException("--log-path: cannot open " + logPath);
    }
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(appender);
    setAllLevels(level);
    componentLevels.forEach(Logging::setLevel);
  }

  /** Replaces the line format (spdlog syntax), e.g. from the bootstrap's {@code application_log_config}. */
  public static synchronized void setFormat(String format) {
    Logger root = context().getLogger(Logger.ROOT_LOGGER_NAME);
    if (root.getAppender(APPENDER) instanceof OutputStreamAppender<ILoggingEvent> appender
        && appender.getEncoder() instanceof LayoutWrappingEncoder<ILoggingEvent> encoder
        && encoder.getLayout() instanceof SpdlogLayout layout) {
      layout.setPattern(format);
    }
  }

  /** Sets every component and the root (Envoy's {@code -l}, admin {@code /logging?level=}). */
  public static synchronized void setAllLevels(String level) {
    Level l = toLogback(checkLevel(level));
    context().getLogger(Logger.ROOT_LOGGER_NAME).setLevel(l);
    for (String c : COMPONENTS) {
      context().getLogger(PREFIX + c).setLevel(l);
      LEVEL_NAMES.put(c, canonical(level));
    }
  }

  /**
   * Sets one component's level (admin {@code /logging?<component>=<level>}).
   *
   * @throws IllegalArgumentException for an unknown component or level
   */
  public static synchronized void setLevel(String component, String level) {
    if (!COMPONENTS.contains(component)) {
      throw new IllegalArgumentException("invalid component specified '" + component + "'");
    }
    context().getLogger(PREFIX + component).setLevel(toLogback(checkLevel(level)));
    LEVEL_NAMES.put(component, canonical(level));
  }

  /** Every component's level by name, sorted (admin {@code /logging} lists "active loggers"). */
  public static Map<String, String> levels() {
    Map<String, String> out = new TreeMap<>();
    for (String c : COMPONENTS) {
      out.put(c, LEVEL_NAMES.getOrDefault(c, SpdlogLayout.levelName(
          context().getLogger(PREFIX + c).getEffectiveLevel())));
    }
    return out;
  }

  /**
   * Returns {@code level} when it is one of Envoy's level names.
   *
   * @throws IllegalArgumentException otherwise, naming {@code -l}
   */
  static String checkLevel(String level) {
    return checkLevel(level, "--log-level");
  }

  static String checkLevel(String level, String flag) {
    return switch (level) {
      case "trace", "debug", "info", "warning", "warn", "error", "critical", "off" -> level;
      default -> throw new IllegalArgumentException(flag + ": invalid log level specified '" + level
          + "' (trace, debug, info, warning|warn, error, critical, off)");
    };
  }

  private static String canonical(String level) {
    return level.equals("warn") ? "warning" : level;
  }

  /** Logback has no critical: it maps to ERROR, the closest level that still logs it. */
  static Level toLogback(String level) {
    return switch (level) {
      case "trace" -> Level.TRACE;
      case "debug" -> Level.DEBUG;
      case "info" -> Level.INFO;
      case "warning", "warn" -> Level.WARN;
      case "error", "critical" -> Level.ERROR;
      default -> Level.OFF;
    };
  }

  private static LoggerContext context() {
    return (LoggerContext) LoggerFactory.getILoggerFactory();
  }
}
