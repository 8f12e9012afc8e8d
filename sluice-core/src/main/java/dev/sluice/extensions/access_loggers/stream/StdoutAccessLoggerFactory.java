package dev.sluice.extensions.access_loggers.stream;

import dev.sluice.accesslog.AccessLogWriters;
import dev.sluice.accesslog.FileSinkLogger;
import dev.sluice.accesslog.SubstitutionFormatConfig;
import dev.sluice.accesslog.SubstitutionFormatter;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.accesslog.AccessLoggerFactory;
import dev.sluice.api.config.ConfigException;
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
    return new FileSinkLogger(formatter, AccessLogWriters.manager(context.stats()).file("/dev/stdout"));
  }
}
