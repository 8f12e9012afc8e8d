package dev.sluice.accesslog;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.accesslog.AccessLoggerFactory;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import dev.sluice.extensions.access_loggers.file.FileAccessLoggerFactory;
import dev.sluice.extensions.access_loggers.stream.StderrAccessLoggerFactory;
import dev.sluice.extensions.access_loggers.stream.StdoutAccessLoggerFactory;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Compiles a list of {@code envoy.config.accesslog.v3.AccessLog} (HCM, tcp_proxy, listener
 * {@code access_log}) into one {@link AccessLogger}: each entry's filter and sink, in order. Sinks
 * are looked up in {@link FactoryContext#extensions()} by type URL and name, falling back on the
 * built-in file, stdout and stderr loggers, so this works before a registry knows them.
 */
public final class AccessLogs {
  private static final Map<String, AccessLoggerFactory<?>> BUILT_IN =
      Stream.of(new FileAccessLoggerFactory(), new StdoutAccessLoggerFactory(), new StderrAccessLoggerFactory())
          .collect(Collectors.toUnmodifiableMap(AccessLoggerFactory::typeUrl, f -> f));

  /** Per-thread randomness for runtime_filter sampling. */
  private static final RandomGenerator THREAD_LOCAL_RANDOM = () -> ThreadLocalRandom.current().nextLong();

  private AccessLogs() {}

  /**
   * Compiles {@code configs}; field paths in errors read {@code access_log[i]....}.
   *
   * @return {@link AccessLogger#NOOP} for an empty list
   */
  public static AccessLogger compile(List<AccessLog> configs, FactoryContext ctx) {
    return compile(configs, ctx, THREAD_LOCAL_RANDOM);
  }

  /** As {@link #compile(List, FactoryContext)} with the randomness runtime filters sample with. */
  public static AccessLogger compile(List<AccessLog> configs, FactoryContext ctx, RandomGenerator random) {
    List<AccessLogger> loggers = new ArrayList<>();
    for (int i = 0; i < configs.size(); i++) {
      String path = "access_log[" + i + "]";
      AccessLog config = configs.get(i);
      AccessLogger sink = sink(config, ctx, path);
      if (config.hasFilter()) {
        Predicate<StreamInfo> filter = AccessLogFilters.compile(config.getFilter(), path + ".filter", random);
        sink = new FilteredAccessLogger(filter, sink);
      }
      loggers.add(sink);
    }
    return switch (loggers.size()) {
      case 0 -> AccessLogger.NOOP;
      case 1 -> loggers.get(0);
      default -> new CompositeAccessLogger(loggers.toArray(AccessLogger[]::new));
    };
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static AccessLogger sink(AccessLog config, FactoryContext ctx, String path) {
    if (!config.hasTypedConfig()) {
      throw new ConfigException(path + ".typed_config", "typed_config is required for access logger '" + config.getName() + "'");
    }
    Any any = config.getTypedConfig();
    String configPath = path + ".typed_config";
    AccessLoggerFactory registered = ctx.extensions().find(AccessLoggerFactory.class, any, config.getName());
    if (registered != null) {
      Message c = ctx.extensions().unpack(registered, any, configPath);
      return create(registered, c, ctx, configPath);
    }
    AccessLoggerFactory builtIn = BUILT_IN.get(any.getTypeUrl());
    if (builtIn == null) {
      throw new ConfigException(
          configPath, "unsupported access logger '" + config.getName() + "' (" + any.getTypeUrl() + ")");
    }
    Message c;
    try {
      c = any.unpack(builtIn.configType());
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException(configPath, "cannot unpack " + any.getTypeUrl() + ": " + e.getMessage(), e);
    }
    return create(builtIn, c, ctx, configPath);
  }

  private static <C extends Message> AccessLogger create(
      AccessLoggerFactory<C> factory, C config, FactoryContext ctx, String path) {
    try {
      return factory.create(config, ctx);
    } catch (ConfigException e) {
      throw e.under(path);
    }
  }

  /** Logs only the streams its filter accepts. */
  record FilteredAccessLogger(Predicate<StreamInfo> filter, AccessLogger sink) implements AccessLogger {
    @Override
    public void log(StreamInfo info) {
      if (filter.test(info)) {
        sink.log(info);
      }
    }
  }

  /** Several access_log entries, each logged in config order. */
  record CompositeAccessLogger(AccessLogger[] loggers) implements AccessLogger {
    @Override
    public void log(StreamInfo info) {
      for (AccessLogger l : loggers) {
        l.log(info);
      }
    }
  }
}
