package dev.sluice.extensions.access_loggers.stream;

import dev.sluice.accesslog.AccessLogWriters;
import dev.sluice.accesslog.FileSinkLogger;
import dev.sluice.accesslog.SubstitutionFormatConfig;
import dev.sluice.accesslog.SubstitutionFormatter;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import org.jspecify.annotations.Nullable;

/** What the stdout and stderr loggers share: a file sink on the stream's device path. */
final class StreamLoggers {
  private StreamLoggers() {}

  /** @param logFormat the config's {@code log_format}, or null for Envoy's default format */
  static AccessLogger create(@Nullable SubstitutionFormatString logFormat, String devicePath, FactoryContext context) {
    SubstitutionFormatter formatter;
    if (logFormat != null) {
      try {
        formatter = SubstitutionFormatConfig.compile(logFormat).formatter();
      } catch (ConfigException e) {
        throw e.under("log_format");
      }
    } else {
      formatter = SubstitutionFormatConfig.defaultFormatter();
    }
    return new FileSinkLogger(formatter, AccessLogWriters.manager(context.stats()).file(devicePath));
  }
}
