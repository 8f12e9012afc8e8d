package dev.sluice.extensions.access_loggers.stream;

import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.accesslog.AccessLoggerFactory;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StderrAccessLog;

/**
 * {@code envoy.access_loggers.stderr}: as the file logger on {@code /dev/stderr}, which Envoy also
 * writes through its buffered access log file.
 */
public final class StderrAccessLoggerFactory implements AccessLoggerFactory<StderrAccessLog> {
  @Override
  public String name() {
    return "envoy.access_loggers.stderr";
  }

  @Override
  public Class<StderrAccessLog> configType() {
    return StderrAccessLog.class;
  }

  @Override
  public StderrAccessLog defaultInstance() {
    return StderrAccessLog.getDefaultInstance();
  }

  @Override
  public AccessLogger create(StderrAccessLog config, FactoryContext context) {
    return StreamLoggers.create(config.hasLogFormat() ? config.getLogFormat() : null, "/dev/stderr", context);
  }
}
