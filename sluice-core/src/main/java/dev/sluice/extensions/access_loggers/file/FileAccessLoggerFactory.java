package dev.sluice.extensions.access_loggers.file;

import dev.sluice.accesslog.AccessLogWriters;
import dev.sluice.accesslog.FileSinkLogger;
import dev.sluice.accesslog.SubstitutionFormatConfig;
import dev.sluice.accesslog.SubstitutionFormatter;
import dev.sluice.api.FactoryContext;
import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.accesslog.AccessLoggerFactory;
import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import java.util.List;

/**
 * {@code envoy.access_loggers.file}: formats each entry on the worker and appends it to
 * {@code path} through the shared writer of that path ({@code /dev/stdout} and
 * {@code /dev/stderr} write to the process's streams).
 */
public final class FileAccessLoggerFactory implements AccessLoggerFactory<FileAccessLog> {
  @Override
  public String name() {
    return "envoy.access_loggers.file";
  }

  @Override
  public List<String> aliases() {
    return List.of("envoy.file_access_log");
  }

  @Override
  public Class<FileAccessLog> configType() {
    return FileAccessLog.class;
  }

  @Override
  public FileAccessLog defaultInstance() {
    return FileAccessLog.getDefaultInstance();
  }

  @Override
  @SuppressWarnings("deprecation") // format, json_format, typed_json_format: Envoy still honours them
  public AccessLogger create(FileAccessLog config, FactoryContext context) {
    if (config.getPath().isEmpty()) {
      throw new ConfigException("path", "path is required");
    }
    SubstitutionFormatter formatter =
        switch (config.getAccessLogFormatCase()) {
          case FORMAT ->
              config.getFormat().isEmpty()
                  ? SubstitutionFormatConfig.defaultFormatter()
                  : SubstitutionFormatConfig.text(config.getFormat(), false, "format");
          case JSON_FORMAT -> SubstitutionFormatConfig.json(config.getJsonFormat(), false, false, false, "json_format");
          case TYPED_JSON_FORMAT ->
              SubstitutionFormatConfig.json(config.getTypedJsonFormat(), true, false, false, "typed_json_format");
          case LOG_FORMAT -> logFormat(config);
          case ACCESSLOGFORMAT_NOT_SET -> SubstitutionFormatConfig.defaultFormatter();
        };
    return new FileSinkLogger(formatter, AccessLogWriters.manager(context.stats()).file(config.getPath()));
  }

  private static SubstitutionFormatter logFormat(FileAccessLog config) {
    try {
      return SubstitutionFormatConfig.compile(config.getLogFormat()).formatter();
    } catch (ConfigException e) {
      throw e.under("log_format");
    }
  }
}
