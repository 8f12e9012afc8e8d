package dev.sluice.extensions.access_loggers.stream;

import dev.sluice.accesslog.AccessLogWriters;
import dev.sluice.accesslog.FileSinkLogger;
import dev.sluice.accesslog.SubstitutionFormatConfig;
import dev.sluice.accesslog.SubstitutionFormatter;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.accesslog.AccessLoggerFactory;
import dev.sluice.api.config.ConfigException;
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
    SubstitutionFormatter formatter;
    if (config.hasLogFormat()) {
      try {
        formatter = SubstitutionFormatConfig.compile(config.getLogFormat()).formatter();
      } catch (ConfigException e) {
        throw e.under("log_format");
      }
    } else {
      formatter = SubstitutionFormatConfig.defaultFormatter();
    }
    return new FileSinkLogger(formatter, AccessLogWriters.manager(context.stats()).file("/dev/stderr"));
  }
}
