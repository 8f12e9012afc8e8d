package dev.sluice.accesslog;

import dev.sluice.api.accesslog.AccessLogger;
import dev.sluice.api.stream.StreamInfo;

/** Formats on the calling worker and hands the line to the file's writer thread. */
public record FileSinkLogger(SubstitutionFormatter formatter, AccessLogFile file) implements AccessLogger {
  @Override
  public void log(StreamInfo info) {
    file.write(formatter.format(info));
  }
}
