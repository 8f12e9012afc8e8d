package dev.sluice.extensions.access_loggers.stream;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.accesslog.AccessLoggerFactory;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;

/**
 * {@code envoy.access_loggers.stdout}: as the file logger on {@code /dev/stdout}, which Envoy also
 * writes through its buffered access log file.
 */
public final class StdoutAccessLoggerFactory implements AccessLoggerFactory<StdoutAccessLog> {
  @Override
  public String name() {
    return "envoy.access_loggers.stdout";
  }

  @Override
  public Class<StdoutAccessLog> configType() {
    return StdoutAccessLog.class;
  }

  @Override
  public StdoutAccessLog defaultInstance() {
    return StdoutAccessLog.getDefaultInstance();
  }

  @Override
  public AccessLogger create(StdoutAccessLog config, FactoryContext context) {
    return StreamLoggers.create(config.hasLogFormat() ? config.getLogFormat() : null, "/dev/stdout", context);
  }
}
