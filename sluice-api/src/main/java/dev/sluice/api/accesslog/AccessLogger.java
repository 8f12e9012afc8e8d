package dev.sluice.api.accesslog;

import dev.sluice.api.stream.StreamInfo;

/**
 * Writes one access-log entry per finished stream or connection. Called on the worker event loop:
 * implementations format there (cheap) and hand the line to a writer thread, never doing I/O.
 */
public interface AccessLogger {
  AccessLogger NOOP = info -> {};

  void log(StreamInfo info);
}
